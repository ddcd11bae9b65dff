"""Reads for the reviewer queue and the case page (issue 4).

The queue is read in (priority DESC, id) order from a partial index over the cases in the
queue, and paged by keyset: a page starts after the (priority, id) of the last row of the
one before, so page 500 costs what page 1 costs. Never OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Left
from django.utils import timezone

from accounts.identifiers import normalise_handle, normalise_phone
from accounts.models import ChatAccount, Platform
from moderation.access import can_read_deliveries
from moderation.audit import action_label
from moderation.cases.glance import account_taken_down, case_summary
from moderation.cases.priority import case_score
from moderation.keyset import BadCursor, cursor_decode, cursor_encode
from moderation.models import AuditEvent, Case, CaseNote, Decision, LegalBasis, StaffPreference
from moderation.rings import ring_for_case
from reports.access import reporter_contact_for
from reports.models import Evidence, Report, SourceKind

PAGE_SIZE = 50
QUEUE_STATUSES = (Case.Status.OPEN, Case.Status.IN_REVIEW)
# Full-text search: these expressions are exactly what the GIN indexes of migration
# moderation/0005_queue_search index, so PostgreSQL can use them. Values are bound as
# parameters, never formatted in. The matching cases are one UNION, so that a rare term
# starts from its few matches instead of filtering the whole queue in priority order.
TEXT_SEARCH_SQL = (
    "SELECT c.id FROM moderation_case c WHERE c.account_id IN ("
    " SELECT a.id FROM accounts_chataccount a WHERE to_tsvector('simple'::regconfig, "
    " coalesce(a.identifier, '') || ' ' || coalesce(a.display_name, '')) "
    " @@ plainto_tsquery('simple'::regconfig, %s)"
    " UNION SELECT a.id FROM accounts_chataccount a WHERE a.identifier = ANY(%s))"
    " UNION SELECT r.case_id FROM reports_report r WHERE "
    " to_tsvector('simple'::regconfig, coalesce(r.description, '')) "
    " @@ plainto_tsquery('simple'::regconfig, %s)"
)
# A phone number, however it was typed: the accounts known by it or listing it (the GIN
# index on ChatAccount.phone_numbers).
PHONE_SEARCH_SQL = (
    "SELECT c.id FROM moderation_case c WHERE c.account_id IN ("
    " SELECT a.id FROM accounts_chataccount a WHERE a.identifier = %s"
    " UNION SELECT a.id FROM accounts_chataccount a WHERE a.phone_numbers @> ARRAY[%s]::varchar[])"
)
# For a common term (thousands of matches), walking the queue in priority order and testing
# each case is what finds the first page fastest; this is that test, on the outer row.
TEXT_MATCH_SQL = (
    "EXISTS (SELECT 1 FROM accounts_chataccount a WHERE a.id = moderation_case.account_id"
    " AND (to_tsvector('simple'::regconfig, "
    " coalesce(a.identifier, '') || ' ' || coalesce(a.display_name, '')) "
    " @@ plainto_tsquery('simple'::regconfig, %s) OR a.identifier = ANY(%s)))"
    " OR EXISTS (SELECT 1 FROM reports_report r WHERE r.case_id = moderation_case.id AND"
    " to_tsvector('simple'::regconfig, coalesce(r.description, '')) "
    " @@ plainto_tsquery('simple'::regconfig, %s))"
)
# How many matches, up to a cap, decides between the two plans (a few ms from the GINs).
MATCHES_SQL = (
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM accounts_chataccount a WHERE"
    " to_tsvector('simple'::regconfig, coalesce(a.identifier, '') || ' ' ||"
    " coalesce(a.display_name, '')) @@ plainto_tsquery('simple'::regconfig, %s) LIMIT %s) s)"
    " + (SELECT count(*) FROM (SELECT 1 FROM reports_report r WHERE"
    " to_tsvector('simple'::regconfig, coalesce(r.description, ''))"
    " @@ plainto_tsquery('simple'::regconfig, %s) LIMIT %s) t)"
)
COMMON_TERM_MATCHES = 2000
QUEUE_ROW_FIELDS = [
    "id",
    "status",
    "category",
    "urgent",
    "report_count",
    "source_kinds",
    "priority",
    "opened_at",
    "version",
    "claimed_by_id",
    "claim_expires_at",
    "account_id",
    "account__identifier",
    "account__display_name",
    "account__platform_id",
    "account__platform__slug",
    "account__platform__name",
    "claimed_by__username",
    # The "Returning" badge (issue 17): the old takedown, its case and its account.
    "returning_via",
    "returning_from__case_id",
    "returning_from__resolved_at",
    "returning_from__updated_at",
    "returning_from__account__identifier",
    "returning_from__platform__slug",
]
# How much of a case's report text the queue row carries (the row shows one line of it).
SNIPPET_CHARS = 160

AGE_BUCKETS = {
    "1d": (None, timedelta(days=1)),
    "1-3d": (timedelta(days=1), timedelta(days=3)),
    "3-7d": (timedelta(days=3), timedelta(days=7)),
    "7d+": (timedelta(days=7), None),
}


def review_target() -> timedelta:
    """How long a case may wait for a decision (SARING_REVIEW_TARGET_HOURS, default 24)."""
    return timedelta(hours=getattr(settings, "SARING_REVIEW_TARGET_HOURS", 24))


def sla_status(opened_at: datetime, *, now: datetime) -> str:
    waited, target = now - opened_at, review_target()
    if waited >= target:
        return "breached"
    if waited >= target * 0.75:
        return "due"
    return "ok"


@dataclass(frozen=True)
class ReviewClock:
    """Where a case stands against the review target: `state` as in `sla_status`, `left`
    until the target (negative once past it), and for an overdue case a `level` that ranks
    how far past: 1 within one more target period, 2 within three, 3 beyond. A queue where
    most cases are overdue then still shows which are the oldest debts."""

    state: str
    left: timedelta
    level: int = 0


def review_clock(opened_at: datetime, *, now: datetime) -> ReviewClock:
    target = review_target()
    left = opened_at + target - now
    state = sla_status(opened_at, now=now)
    if state != "breached":
        return ReviewClock(state, left)
    late = -left
    level = 1 if late < target else 2 if late < target * 3 else 3
    return ReviewClock(state, left, level)


@dataclass(frozen=True)
class QueueFilters:
    platform: str = ""
    category: str = ""
    source: str = ""
    urgency: str = ""  # "urgent" | "normal"
    age: str = ""  # a key of AGE_BUCKETS
    claimed: str = ""  # "claimed" | "unclaimed"
    sla: str = ""  # "ok" | "due" | "breached"
    q: str = ""

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QueuePage:
    cases: list[Case]
    next_cursor: str | None
    filters: QueueFilters
    now: datetime = field(default_factory=timezone.now)


def _after(cases: QuerySet[Case], cursor: str) -> QuerySet[Case]:
    """The cases after the (priority, id) in `cursor`, in queue order. A cursor that does not
    read back (edited, cut short) starts from the top: a moderator loses nothing by it."""
    if not cursor:
        return cases
    try:
        priority, last_id = cursor_decode(cursor, (float, int))
    except BadCursor:
        return cases
    # `priority <= p` bounds the index scan; the OR only trims ties on p.
    return cases.filter(priority__lte=priority).filter(Q(priority__lt=priority) | Q(id__gt=last_id))


def _next_cursor(rows: list[Case], more: bool) -> str | None:
    return cursor_encode(rows[-1].priority, rows[-1].id) if more else None


def _search_condition(text: str) -> Q:
    """Account identifier (as typed, phone or handle), display name, or report text."""
    phone = normalise_phone(text)
    if phone:
        return Q(id__in=RawSQL(PHONE_SEARCH_SQL, [phone, phone]))  # noqa: S611 - bound params
    exact = sorted({text.strip(), normalise_handle(text)} - {""})
    with connection.cursor() as cursor:
        cursor.execute(MATCHES_SQL, [text, COMMON_TERM_MATCHES, text, COMMON_TERM_MATCHES])
        matches = cursor.fetchone()[0]
    if matches >= COMMON_TERM_MATCHES:
        return Q(RawSQL(TEXT_MATCH_SQL, [text, exact, text], output_field=BooleanField()))  # noqa: S611
    # A rare term: its few cases by id. As a subquery PostgreSQL guesses thousands of matches
    # and scans every queued case to join them; the ids themselves are looked up by key.
    with connection.cursor() as cursor:
        cursor.execute(TEXT_SEARCH_SQL, [text, exact, text])
        case_ids = [row[0] for row in cursor.fetchall()]
    return Q(id__in=case_ids)


def _filtered(filters: QueueFilters, now: datetime, search_scope: Q) -> QuerySet[Case]:
    cases = Case.objects.filter(status__in=QUEUE_STATUSES)
    if filters.platform:
        cases = cases.filter(account__platform__slug=filters.platform)
    if filters.category:
        cases = cases.filter(category=filters.category)
    if filters.source:
        cases = cases.filter(source_kinds__contains=filters.source)
    if filters.urgency:
        cases = cases.filter(urgent=filters.urgency == "urgent")
    if filters.claimed == "claimed":
        cases = cases.filter(status=Case.Status.IN_REVIEW)
    elif filters.claimed == "unclaimed":
        cases = cases.filter(status=Case.Status.OPEN)
    if filters.age in AGE_BUCKETS:
        younger_than, older_than = AGE_BUCKETS[filters.age][1], AGE_BUCKETS[filters.age][0]
        if younger_than is not None:
            cases = cases.filter(opened_at__gt=now - younger_than)
        if older_than is not None:
            cases = cases.filter(opened_at__lte=now - older_than)
    if filters.sla:
        target = review_target()
        if filters.sla == "breached":
            cases = cases.filter(opened_at__lte=now - target)
        elif filters.sla == "due":
            cases = cases.filter(opened_at__lte=now - target * 0.75, opened_at__gt=now - target)
        elif filters.sla == "ok":
            cases = cases.filter(opened_at__gt=now - target * 0.75)
    if filters.q.strip():
        # A search must not tell what a case's text says to someone who may not read it.
        cases = cases.filter(_search_condition(filters.q.strip()[:200])).filter(search_scope)
    return cases


def _with_row_extras(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The row's snippet (the latest report's text that has any) and evidence count, as
    correlated subqueries of the same statement: PostgreSQL evaluates them only for the rows
    the LIMIT keeps, each through an index (report_case_received_idx, the evidence's
    report_id), so a page costs the same at any queue size and no query per row is made."""
    latest_text = (
        Report.objects.filter(case=OuterRef("pk"))
        .exclude(description="")
        .order_by("-received_at", "-id")
        .values(text=Left("description", SNIPPET_CHARS))[:1]
    )
    evidence = (
        Evidence.objects.filter(report__case=OuterRef("pk"), deleted_at__isnull=True)
        .order_by()
        .values("report__case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return cases.annotate(
        snippet=Coalesce(Subquery(latest_text), Value("")),
        evidence_count=Coalesce(Subquery(evidence, output_field=IntegerField()), 0),
    )


def case_queue(
    *,
    filters: QueueFilters,
    cursor: str = "",
    limit: int = PAGE_SIZE,
    search_scope: Q | None = None,
) -> QueuePage:
    """One page of the queue, most important first, starting after `cursor`. A text search
    looks only in `search_scope` (moderation.access.visible_cases of the viewer)."""
    now = timezone.now()
    scope = search_scope if search_scope is not None else Q()
    ordered = _after(_filtered(filters, now, scope), cursor).order_by("-priority", "id")
    if filters.q.strip():
        # Find the page's ids first, then load only those rows with their accounts: a
        # common word matches thousands of cases, and joining them all before the sort is
        # what makes a search slow.
        page_ids = list(ordered.values_list("id", flat=True)[: limit + 1])
        ordered = Case.objects.filter(id__in=page_ids).order_by("-priority", "id")
    rows = list(
        _with_row_extras(
            ordered.select_related(
                "account__platform",
                "claimed_by",
                "returning_from__account",
                "returning_from__platform",
            ).only(*QUEUE_ROW_FIELDS)
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(rows, _next_cursor(rows, more), filters, now)


COUNTS_CACHE_SECONDS = 20
QUEUE_COUNTS_CACHE_KEY = "moderation:queue-counts:v1"


def queue_counts(*, use_cache: bool = True) -> dict:
    """How many cases in the queue each filter would show.

    Three grouped scans of the queue; cached briefly because they read every queued case and
    a count a few seconds old is as useful to a moderator as a fresh one.
    """
    key = QUEUE_COUNTS_CACHE_KEY
    if use_cache:
        cached = cache.get(key)
        if cached is not None:
            return cached
    now = timezone.now()
    target = review_target()
    queued = Case.objects.filter(status__in=QUEUE_STATUSES)
    aggregates = {
        "total": Count("id"),
        "claimed:claimed": Count("id", filter=Q(status=Case.Status.IN_REVIEW)),
        "claimed:unclaimed": Count("id", filter=Q(status=Case.Status.OPEN)),
        "urgency:urgent": Count("id", filter=Q(urgent=True)),
        "urgency:normal": Count("id", filter=Q(urgent=False)),
        "sla:breached": Count("id", filter=Q(opened_at__lte=now - target)),
        "sla:due": Count(
            "id", filter=Q(opened_at__lte=now - target * 0.75, opened_at__gt=now - target)
        ),
        "sla:ok": Count("id", filter=Q(opened_at__gt=now - target * 0.75)),
    }
    for kind in SourceKind.values:
        aggregates[f"source:{kind}"] = Count("id", filter=Q(source_kinds__contains=kind))
    for name, (older, younger) in AGE_BUCKETS.items():
        condition = Q()
        if younger is not None:
            condition &= Q(opened_at__gt=now - younger)
        if older is not None:
            condition &= Q(opened_at__lte=now - older)
        aggregates[f"age:{name}"] = Count("id", filter=condition)
    # Aggregate aliases must be identifiers: number them, then name them back.
    names = list(aggregates)
    row = queued.aggregate(**{f"c{i}": aggregates[name] for i, name in enumerate(names)})
    counts: dict = {"total": 0}
    for i, name in enumerate(names):
        facet, _, value = name.partition(":")
        if value:
            counts.setdefault(facet, {})[value] = row[f"c{i}"]
        else:
            counts[facet] = row[f"c{i}"]
    counts["category"] = dict(queued.values_list("category").annotate(n=Count("id")).order_by())
    counts["platform"] = dict(
        queued.values_list("account__platform__slug").annotate(n=Count("id")).order_by()
    )
    cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def queue_platforms() -> list[tuple[str, str]]:
    return list(Platform.objects.order_by("name").values_list("slug", "name"))


def escalated_cases(*, cursor: str = "", limit: int = PAGE_SIZE) -> QueuePage:
    """Escalated cases for a supervisor's decision, most important first."""
    cases = _after(Case.objects.filter(status=Case.Status.ESCALATED), cursor)
    rows = list(cases.select_related("account__platform").order_by("-priority", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    # The escalation comment is what a supervisor reads first.
    last = {
        d.case_id: d
        for d in Decision.objects.filter(
            case_id__in=[c.pk for c in rows], outcome=Decision.Outcome.ESCALATE
        )
        .select_related("moderator")
        .order_by("case_id", "created_at")
    }
    for case in rows:
        case.escalation = last.get(case.pk)  # type: ignore[attr-defined]
    return QueuePage(rows, _next_cursor(rows, more), QueueFilters())


# --- The case page ------------------------------------------------------------------------

REPORTS_SHOWN = 200
REPORTS_OPEN = 5  # the newest reports shown unfolded; the others behind "Show N more"


def claim_held(*, case_id: int, moderator: User) -> bool:
    """Whether the moderator still holds the case (what `case_claim_renew` would renew): a
    claim whose lease ran out is not held, swept or not."""
    return Case.objects.filter(
        pk=case_id,
        status=Case.Status.IN_REVIEW,
        claimed_by=moderator,
        claim_expires_at__gt=timezone.now(),
    ).exists()


def legal_bases_for(category: str) -> list[LegalBasis]:
    """The active legal bases, those that cover `category` first (each marked `suggested`):
    the others stay listed, but the decision service refuses them for this category."""
    bases = list(LegalBasis.objects.filter(active=True).order_by("title"))
    for basis in bases:
        basis.suggested = basis.covers(category)  # type: ignore[attr-defined]
    return sorted(bases, key=lambda basis: not basis.suggested)  # type: ignore[attr-defined]


def case_page(*, case_id: int, viewer: User) -> dict[str, Any] | None:
    """Everything the case page shows, in a fixed number of queries."""
    case = (
        Case.objects.select_related(
            "account__platform", "claimed_by", "previous_case", "legal_hold_by"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return None
    now = timezone.now()
    account = case.account
    reports = list(
        Report.objects.filter(case=case)
        .select_related("organisation")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("pk")))
        .order_by("-received_at")[:REPORTS_SHOWN]
    )
    for report in reports:
        if report.source_kind == SourceKind.PUBLIC:
            report.contact = reporter_contact_for(viewer, report)  # type: ignore[attr-defined]
    linked = []
    if account.phone_numbers:
        linked = list(
            ChatAccount.objects.filter(phone_numbers__overlap=account.phone_numbers)
            .exclude(pk=account.pk)
            .select_related("platform")
            .order_by("platform__slug", "identifier")[:50]
        )
    earlier = list(
        Case.objects.filter(account=account)
        .exclude(pk=case.pk)
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("moderator", "legal_basis").order_by(
                    "created_at"
                ),
            )
        )
        .order_by("-opened_at")[:20]
    )
    decisions = list(
        case.decisions.select_related("moderator", "legal_basis").order_by("created_at")
    )
    notes = list(CaseNote.objects.filter(case=case).select_related("author").order_by("created_at"))
    history = list(
        AuditEvent.objects.filter(subject_type="moderation.case", subject_id=str(case.pk)).order_by(
            "sequence"
        )[:200]
    )
    for event in history:
        event.action_label = action_label(event.action)  # type: ignore[attr-defined]
    score, parts = case_score(case, now=now)
    preference = StaffPreference.objects.filter(user=viewer).first()
    reads_deliveries = can_read_deliveries(viewer)
    return {
        "case": case,
        "account": account,
        # Newest first; the page shows REPORTS_OPEN of them and folds the rest (issue 16).
        "reports": reports,
        "reports_shown": len(reports),
        "reports_open": REPORTS_OPEN,
        "reports_folded": max(len(reports) - REPORTS_OPEN, 0),
        "summary": case_summary(case=case),
        "prior_takedown": account_taken_down(account=account, case_id=case.pk),
        # The other reported accounts linked to this one, and what they share (issue 17).
        "ring": ring_for_case(case=case, viewer=viewer),
        # Requests and what the operator said are for those who read deliveries.
        "can_read_deliveries": reads_deliveries,
        "takedown_requests": list(case.takedown_requests.order_by("issued_at"))
        if reads_deliveries
        else [],
        "linked_accounts": linked,
        "earlier_cases": earlier,
        "decisions": decisions,
        "notes": notes,
        "history": history,
        "priority_score": score,
        "priority_parts": parts,
        "sla": sla_status(case.opened_at, now=now),
        "keep_blurred": bool(preference and preference.keep_evidence_blurred),
        "legal_bases": legal_bases_for(case.category),
        "claim_live": case.status == Case.Status.IN_REVIEW
        and case.claim_expires_at is not None
        and case.claim_expires_at > now,
    }
