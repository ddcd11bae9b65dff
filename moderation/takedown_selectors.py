"""Reads for the approvals and takedown pages. Writes live in services/takedowns.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import Case as Conditional
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.categories import URGENT_CATEGORIES, Urgency
from moderation.models import Approval, Case, Decision, DeliveryAttempt, TakedownRequest
from moderation.services.takedowns import UNCONFIRMED

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def proposals_awaiting(*, limit: int = 100) -> QuerySet[Decision]:
    """Takedown proposals no supervisor has decided yet: urgent first, then the oldest."""
    from reports.models import Evidence, Report

    urgent = (
        Q(urgency=Urgency.URGENT)
        | Q(category__in=list(URGENT_CATEGORIES))
        | Q(case__urgent=True)
        | Q(case__category__in=list(URGENT_CATEGORIES))
    )
    images = Evidence.objects.filter(content_type__in=IMAGE_TYPES).order_by("id")
    return (
        Decision.objects.filter(
            outcome=Decision.Outcome.PROPOSE_TAKEDOWN, case__status=Case.Status.PROPOSED
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
class TakedownFilters:
    platform: str = ""
    status: str = ""
    overdue: bool = False


@dataclass(frozen=True)
class TakedownPage:
    rows: list[TakedownRequest]
    next_cursor: str | None


def cursor_encode(request: TakedownRequest) -> str:
    return f"{request.issued_at.isoformat()}_{request.pk}"


def cursor_decode(value: str) -> tuple[datetime, UUID] | None:
    moment, _, pk = value.rpartition("_")
    try:
        issued = datetime.fromisoformat(moment)
        return (issued if issued.tzinfo else timezone.make_aware(issued)), UUID(pk)
    except ValueError:
        return None


def takedown_page(
    *, filters: TakedownFilters, after: tuple[datetime, UUID] | None = None, limit: int = 50
) -> TakedownPage:
    """Newest first, by keyset (issued_at, id): no OFFSET, however long the list grows."""
    now = timezone.now()
    queryset = TakedownRequest.objects.select_related("platform", "account").annotate(
        is_overdue=Conditional(
            When(Q(deadline__lt=now, status__in=UNCONFIRMED), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    if filters.platform:
        queryset = queryset.filter(platform__slug=filters.platform)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.overdue:
        queryset = queryset.filter(deadline__lt=now, status__in=UNCONFIRMED)
    if after is not None:
        issued, pk = after
        queryset = queryset.filter(Q(issued_at__lt=issued) | Q(issued_at=issued, id__lt=pk))
    rows = list(queryset.order_by("-issued_at", "-id")[: limit + 1])
    next_cursor = cursor_encode(rows[limit - 1]) if len(rows) > limit else None
    return TakedownPage(rows=rows[:limit], next_cursor=next_cursor)


# How each delivery outcome reads in the history (services/takedowns.py writes the codes).
OUTCOME_LABELS = {
    "in_progress": gettext_lazy("in progress"),
    "acknowledged": gettext_lazy("acknowledged"),
    "duplicate": gettext_lazy("already received (409), acknowledged"),
    "throttled": gettext_lazy("throttled (429)"),
    "refused": gettext_lazy("refused"),
    "server_error": gettext_lazy("operator error (5xx)"),
    "timeout": gettext_lazy("timed out"),
    "connection_error": gettext_lazy("connection failed"),
    "lost": gettext_lazy("worker lost"),
}


def takedown_detail(*, request_id: UUID) -> TakedownRequest | None:
    """One request with its delivery history; each attempt gets a readable outcome_label."""
    request = (
        TakedownRequest.objects.select_related(
            "platform", "account", "case", "approval__supervisor", "approval__decision__moderator"
        )
        .prefetch_related(
            Prefetch("deliveries", queryset=DeliveryAttempt.objects.order_by("number"))
        )
        .filter(pk=request_id)
        .first()
    )
    if request is not None:
        for attempt in request.deliveries.all():
            attempt.outcome_label = OUTCOME_LABELS.get(attempt.outcome, attempt.outcome)
    return request


@dataclass(frozen=True)
class Compliance:
    slug: str
    name: str
    requests: int
    acknowledged: int
    due: int  # deadline passed, or resolved: the ones that count toward compliance
    in_time: int
    median_seconds: float | None
    overdue: int

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

    @property
    def in_time_percent(self) -> float | None:
        return round(100 * self.in_time / self.due, 1) if self.due else None


_COMPLIANCE_SQL = """
SELECT p.slug, p.name,
    count(t.id) FILTER (WHERE t.status <> 'cancelled'),
    count(t.id) FILTER (WHERE t.acknowledged_at IS NOT NULL),
    count(t.id) FILTER (WHERE t.status <> 'cancelled'
        AND (t.deadline < %(now)s OR t.status IN ('taken_down', 'refused', 'not_found'))),
    count(t.id) FILTER (WHERE t.status = 'taken_down' AND t.resolved_at <= t.deadline),
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(epoch FROM t.resolved_at - t.issued_at)
    ) FILTER (WHERE t.status = 'taken_down'),
    count(t.id) FILTER (WHERE t.status = ANY(%(unconfirmed)s) AND t.deadline < %(now)s)
FROM accounts_platform p
LEFT JOIN moderation_takedownrequest t ON t.platform_id = p.id
GROUP BY p.id, p.slug, p.name
ORDER BY p.name
"""


def takedown_compliance() -> list[Compliance]:
    """Per platform: requests, acknowledged, share taken down within the deadline (of those
    whose deadline has passed or which are resolved), median time to takedown, overdue now.
    One grouped query over the whole table."""
    with connection.cursor() as cursor:
        cursor.execute(
            _COMPLIANCE_SQL, {"now": timezone.now(), "unconfirmed": [str(s) for s in UNCONFIRMED]}
        )
        rows = cursor.fetchall()
    return [
        Compliance(
            slug=slug,
            name=name,
            requests=requests,
            acknowledged=acknowledged,
            due=due,
            in_time=in_time,
            median_seconds=float(median) if median is not None else None,
            overdue=overdue,
        )
        for slug, name, requests, acknowledged, due, in_time, median, overdue in rows
    ]
