"""Reads for the approvals and takedown pages, and the one definition of operator compliance.
Writes live in moderation.takedowns.services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Case as Conditional
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.categories import URGENT_CATEGORIES, Urgency
from accounts.models import Platform
from moderation.keyset import cursor_decode, cursor_encode
from moderation.models import (
    Approval,
    Case,
    Decision,
    DeliveryAttempt,
    RestoreRequest,
    TakedownRequest,
)
from reports.models import INLINE_IMAGE_TYPES, Evidence, Report


def proposals_awaiting(*, limit: int = 100) -> QuerySet[Decision]:
    """Takedown proposals no supervisor has decided yet: urgent first, then the oldest."""

    urgent = (
        Q(urgency=Urgency.URGENT)
        | Q(category__in=list(URGENT_CATEGORIES))
        | Q(case__urgent=True)
        | Q(case__category__in=list(URGENT_CATEGORIES))
    )
    images = Evidence.objects.filter(content_type__in=INLINE_IMAGE_TYPES).order_by("id")
    return (
        Decision.objects.filter(
            outcome=Decision.Outcome.PROPOSE_TAKEDOWN,
            case__status=Case.Status.PROPOSED,
            withdrawn_at__isnull=True,  # undone by its author (a later proposal may follow)
        )
        .exclude(Exists(Approval.objects.filter(decision=OuterRef("pk"))))
        .annotate(
            is_urgent=Conditional(
                When(urgent, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .select_related("case__account__platform", "moderator", "legal_basis")
        .prefetch_related(
            Prefetch(
                "case__reports",
                queryset=Report.objects.order_by("received_at").prefetch_related(
                    Prefetch("evidence", queryset=images)
                ),
            )
        )
        .order_by("-is_urgent", "created_at", "id")[:limit]
    )


@dataclass(frozen=True)
class ProposalGroup:
    """Proposals shown together on the approvals page: one alone, or the proposals of one
    ring batch (issue 17, one `batch_id`), each still approved or rejected on its own."""

    batch_id: UUID | None
    proposals: list[Decision]

    @property
    def is_batch(self) -> bool:
        return self.batch_id is not None and len(self.proposals) > 1

    @property
    def first(self) -> Decision:
        return self.proposals[0]

    @property
    def proposers(self) -> list[str]:
        """Who proposed (one person for a batch made in one step), in order, once each."""
        return list(dict.fromkeys(d.moderator.get_username() for d in self.proposals))


def proposals_grouped(proposals: Iterable[Decision]) -> list[ProposalGroup]:
    """`proposals` (in the approvals page's order) with those sharing a batch id brought
    together where the first of them stands; a proposal without one is a group of its own."""
    groups: list[ProposalGroup] = []
    batches: dict[UUID, ProposalGroup] = {}
    for decision in proposals:
        if decision.batch_id is None:
            groups.append(ProposalGroup(None, [decision]))
        elif decision.batch_id in batches:
            batches[decision.batch_id].proposals.append(decision)
        else:
            batches[decision.batch_id] = ProposalGroup(decision.batch_id, [decision])
            groups.append(batches[decision.batch_id])
    return groups


@dataclass(frozen=True)
class TakedownFilters:
    platform: str = ""
    status: str = ""
    overdue: bool = False


def overdue_filter(now: datetime) -> Q:
    """The one definition of an overdue request: past its deadline and not confirmed by the
    operator (the list's badge and filter, the compliance figures and the metrics)."""
    return Q(deadline__lt=now, status__in=TakedownRequest.UNCONFIRMED)


@dataclass(frozen=True)
class TakedownPage:
    rows: Sequence[TakedownRequest]
    next_cursor: str | None


def takedown_page(*, filters: TakedownFilters, cursor: str = "", limit: int = 50) -> TakedownPage:
    """Newest first, by keyset (issued_at, id): no OFFSET, however long the list grows.
    Raises BadCursor for a cursor this list did not write."""
    now = timezone.now()
    queryset = TakedownRequest.objects.select_related("platform", "account").annotate(
        is_overdue=Conditional(
            When(overdue_filter(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    if filters.platform:
        queryset = queryset.filter(platform__slug=filters.platform)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.overdue:
        queryset = queryset.filter(overdue_filter(now))
    if cursor:
        issued, pk = cursor_decode(cursor, (datetime, UUID))
        queryset = queryset.filter(Q(issued_at__lt=issued) | Q(issued_at=issued, id__lt=pk))
    rows = list(queryset.order_by("-issued_at", "-id")[: limit + 1])
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = cursor_encode(last.issued_at, last.pk) if last is not None else None
    return TakedownPage(rows=rows[:limit], next_cursor=next_cursor)


def takedown_detail(*, request_id: UUID) -> TakedownRequest | None:
    """One request with its delivery history (each attempt has a readable outcome_label)."""
    request = (
        TakedownRequest.objects.select_related(
            "platform",
            "account",
            "case",
            "approval__supervisor",
            "approval__decision__moderator",
            "objection",  # the owner's objection, if any (issue 18): read, never imported
        )
        .prefetch_related(
            Prefetch("deliveries", queryset=DeliveryAttempt.objects.order_by("number"))
        )
        .filter(pk=request_id)
        .first()
    )
    return request


# --- Operator compliance -----------------------------------------------------------------
# The one definition, used by the takedowns page and the supervisors' dashboard alike:
# "taken down in time" is the share of the requests that can be judged — not cancelled, and
# either past their deadline or resolved by the operator (taken down, refused, not found) —
# that the operator confirmed taken down no later than the deadline. A request still inside
# its deadline and unresolved is not judged yet: it counts for neither side. "Within 4 h" and
# "within 24 h" are judged the same way, once 4 or 24 hours have passed since the request was
# issued or it is resolved.

COMPLIANCE_COUNTS = (
    "requests",
    "taken_down",
    "due",
    "in_time",
    "due_4h",
    "within_4h",
    "due_24h",
    "within_24h",
)


def restore_objection_id(*, request_id: UUID) -> int | None:
    """The objection whose restore request this is (its page shows the request), or None."""
    return (
        RestoreRequest.objects.filter(pk=request_id).values_list("objection_id", flat=True).first()
    )


def compliance_counts(*, now: datetime) -> dict[str, Count]:
    """The aggregates of the definition above, as of `now`, for TakedownRequest rows."""
    counted = ~Q(status=TakedownRequest.Status.CANCELLED)
    resolved = Q(status__in=TakedownRequest.RESOLVED)
    done = Q(status=TakedownRequest.Status.TAKEN_DOWN, resolved_at__isnull=False)
    hours = {4: timedelta(hours=4), 24: timedelta(hours=24)}
    return {
        "requests": Count("pk", filter=counted),
        "taken_down": Count("pk", filter=done),
        "due": Count("pk", filter=counted & (Q(deadline__lt=now) | resolved)),
        "in_time": Count("pk", filter=done & Q(resolved_at__lte=F("deadline"))),
        **{
            f"due_{h}h": Count("pk", filter=counted & (Q(issued_at__lte=now - span) | resolved))
            for h, span in hours.items()
        },
        **{
            f"within_{h}h": Count("pk", filter=done & Q(resolved_at__lte=F("issued_at") + span))
            for h, span in hours.items()
        },
    }


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Compliance:
    """One platform's compliance figures (see `compliance_counts`)."""

    platform: Platform
    requests: int = 0
    taken_down: int = 0
    due: int = 0
    in_time: int = 0
    due_4h: int = 0
    within_4h: int = 0
    due_24h: int = 0
    within_24h: int = 0
    acknowledged: int = 0
    overdue: int = 0
    median_seconds: float | None = None

    @property
    def slug(self) -> str:
        return self.platform.slug

    @property
    def name(self) -> str:
        return self.platform.name

    @property
    def share_in_time(self) -> float | None:
        return _share(self.in_time, self.due)

    @property
    def share_4h(self) -> float | None:
        return _share(self.within_4h, self.due_4h)

    @property
    def share_24h(self) -> float | None:
        return _share(self.within_24h, self.due_24h)

    @property
    def median_label(self) -> str:
        seconds = self.median_seconds
        if seconds is None:
            return "—"
        if seconds < 120:
            return _("%(n)d s") % {"n": round(seconds)}
        if seconds < 7200:
            return _("%(n)d min") % {"n": round(seconds / 60)}
        return _("%(n).1f h") % {"n": seconds / 3600}


class _Seconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class _Median(Aggregate):
    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def takedown_compliance(*, now: datetime | None = None) -> list[Compliance]:
    """Per platform, over every request ever issued: the compliance counts, how many the
    operator acknowledged, how many are overdue now and the median time to takedown. One
    grouped query; platforms without requests are listed with zeros."""
    now = now or timezone.now()
    done = Q(status=TakedownRequest.Status.TAKEN_DOWN, resolved_at__isnull=False)
    rows = {
        row["platform_id"]: row
        for row in TakedownRequest.objects.order_by()
        .values("platform_id")
        .annotate(
            **compliance_counts(now=now),
            acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            overdue=Count("pk", filter=overdue_filter(now)),
            median=_Median(_Seconds(F("resolved_at") - F("issued_at")), filter=done),
        )
    }
    figures = []
    for platform in Platform.objects.order_by("name"):
        row = rows.get(platform.pk, {})
        figures.append(
            Compliance(
                platform=platform,
                **{name: row.get(name, 0) for name in COMPLIANCE_COUNTS},
                acknowledged=row.get("acknowledged", 0),
                overdue=row.get("overdue", 0),
                median_seconds=float(row["median"]) if row.get("median") is not None else None,
            )
        )
    return figures


def outbox_lag_seconds(*, now: datetime | None = None) -> float:
    """How long the longest-waiting takedown request has been due and not sent (0 when none
    is): what readiness and the operators' alerts watch. Uses `takedown_due_idx`."""
    now = now or timezone.now()
    due = TakedownRequest.objects.filter(status="pending").filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    oldest = due.aggregate(
        since=Min(Coalesce("next_attempt_at", "issued_at", output_field=DateTimeField()))
    )["since"]
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
