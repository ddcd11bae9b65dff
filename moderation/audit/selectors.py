"""Reads for the auditors: the overview, the decision log, the raw audit trail, one case's
full history.

Both long lists page by keyset, never by OFFSET (moderation.keyset): the decision log on
(created_at, id) descending, the trail on its sequence descending. A cursor is the last row
the page showed. Filters are plain strings (as stored on an Export); dates are WIB days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.postgres.aggregates import JSONBAgg
from django.db.models import (
    CharField,
    Count,
    F,
    Func,
    JSONField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.shortcuts import get_object_or_404

from accounts.models import Platform
from config.clock import wib_day_start
from config.spreadsheet import cell_sql
from moderation.keyset import cursor_decode, cursor_encode
from moderation.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditTreeHead,
    Case,
    Decision,
    DeliveryAttempt,
    Export,
    TakedownRequest,
)
from reports.models import Report, SourceOrganisation

PAGE_SIZE = 50
# The filters of the decision log, its exports and the trail, in this order.
FILTER_FIELDS = (
    "date_from",
    "date_to",
    "platform",
    "category",
    "actor",
    "action",
    "outcome",
    "source_kind",
)
# A decision log "outcome" besides the supervisor's verdicts and the request's statuses.
AWAITING_APPROVAL = "awaiting_approval"


def utc_range(filters: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the filters' WIB days."""
    start = end = None
    if filters.get("date_from"):
        start = wib_day_start(date.fromisoformat(filters["date_from"]))
    if filters.get("date_to"):
        end = wib_day_start(date.fromisoformat(filters["date_to"]) + timedelta(days=1))
    return start, end


def audit_summary() -> dict[str, Any]:
    """The overview's figures: how many events and decisions, and the log's latest checkpoint."""
    return {
        "events": AuditEvent.objects.count(),
        "decisions": Decision.objects.filter(withdrawn_at__isnull=True).count(),
        "head": audit_log_state(),
    }


# --- the decision log ------------------------------------------------------------------


def _source_kind_q(prefix: str, kind: str) -> Q:
    # Case.source_kinds is a comma-separated list such as "ministry,public".
    return Q(**{f"{prefix}source_kinds__regex": rf"(^|,){re.escape(kind)}(,|$)"})


def decision_log_filter(filters: dict[str, str]) -> Q:
    """The decision log's filters as one Q on Decision; the page and the exports share it."""
    q = Q()
    start, end = utc_range(filters)
    if start:
        q &= Q(created_at__gte=start)
    if end:
        q &= Q(created_at__lt=end)
    if filters.get("platform"):
        q &= Q(case__account__platform__slug=filters["platform"])
    if filters.get("category"):
        q &= Q(category=filters["category"]) | Q(category="", case__category=filters["category"])
    if filters.get("actor"):
        actor = filters["actor"]
        q &= Q(moderator__username__iexact=actor) | Q(approval__supervisor__username__iexact=actor)
    if filters.get("action"):
        q &= Q(outcome=filters["action"])
    outcome = filters.get("outcome")
    if outcome == AWAITING_APPROVAL:
        q &= Q(outcome=Decision.Outcome.PROPOSE_TAKEDOWN, approval__isnull=True)
    elif outcome in ("approved", "rejected"):
        q &= Q(approval__verdict=outcome)
    elif outcome and outcome.startswith("request_"):
        q &= Q(approval__request__status=outcome.removeprefix("request_"))
    if filters.get("source_kind"):
        q &= _source_kind_q("case__", filters["source_kind"])
    return q


def decision_log(*, filters: dict[str, str]) -> QuerySet[Decision]:
    # A decision its author undid is not a decision; the audit trail keeps the undo.
    return Decision.objects.filter(
        decision_log_filter(filters), withdrawn_at__isnull=True
    ).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def decision_log_page(*, filters: dict[str, str], cursor: str = "") -> Page:
    """One page of the decision log, newest first; raises BadCursor for a foreign cursor."""
    queryset = decision_log(filters=filters).select_related(
        "case__account__platform",
        "moderator",
        "legal_basis",
        "approval__supervisor",
        "approval__request",
    )
    if cursor:
        moment, pk = cursor_decode(cursor, (datetime, int))
        queryset = queryset.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))
    rows = list(queryset[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, cursor_encode(rows[-1].created_at, rows[-1].pk) if more else None)


# What one exported decision is made of, in this order: one query, no per-row lookups.
EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("decision_id", "id"),
    ("decided_at", "created_at"),
    ("case_id", "case_id"),
    ("case_opened_at", "case__opened_at"),
    ("platform", "case__account__platform__slug"),
    ("account", "case__account__identifier"),
    ("account_display_name", "case__account__display_name"),
    ("decision", "outcome"),
    ("category", "category"),
    ("legal_basis", "legal_basis__title"),
    ("urgency", "urgency"),
    ("rationale", "rationale"),
    ("moderator", "moderator__username"),
    ("source_kinds", "case__source_kinds"),
    ("report_count", "case__report_count"),
    ("approval_verdict", "approval__verdict"),
    ("supervisor", "approval__supervisor__username"),
    ("approval_comment", "approval__comment"),
    ("approved_at", "approval__created_at"),
    ("takedown_request_id", "approval__request__id"),
    ("takedown_status", "approval__request__status"),
    ("takedown_issued_at", "approval__request__issued_at"),
    ("takedown_deadline", "approval__request__deadline"),
    ("takedown_resolved_at", "approval__request__resolved_at"),
    ("operator_reference", "approval__request__operator_reference"),
    # The objection to the takedown, if the account's owner made one (issue 18), and what
    # became of the restoration if it was granted. One objection per takedown: still one row.
    ("objection", "approval__request__objection__receipt_code"),
    ("objection_status", "approval__request__objection__status"),
    ("objection_decided_at", "approval__request__objection__decided_at"),
    ("objection_reason", "approval__request__objection__reason"),
    ("restore_status", "approval__request__objection__restore_request__status"),
    ("public_reporters", "public_reporters"),
]
EXPORT_HEADER = [name for name, _ in EXPORT_COLUMNS]


# A public reporter's contact details erased under retention, in every export format: the
# name says so (with the UTC day), the e-mail and phone are empty. The day as SQL, of a
# timestamp column (NULL while the details are kept):
ERASED_CONTACT = "[erased under retention {day}]"
_ERASED_DAY = "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
ERASED_DAY_SQL = Func(
    F("contact_deleted_at"),
    template=_ERASED_DAY % "%(expressions)s",
    output_field=CharField(),
)


def decision_log_export_rows(*, filters: dict[str, str]) -> QuerySet:
    """Tuples in EXPORT_COLUMNS order; iterate with .iterator(chunk_size=…)."""
    public_reporters = (
        Report.objects.filter(case_id=OuterRef("case_id"), source_kind="public")
        .order_by()
        .values("case_id")
        .annotate(
            contacts=JSONBAgg(
                JSONObject(
                    name="reporter_name",
                    email="reporter_email",
                    phone="reporter_phone",
                    erased=ERASED_DAY_SQL,
                ),
                order_by="id",
            )
        )
        .values("contacts")
    )
    return (
        decision_log(filters=filters)
        .annotate(
            public_reporters=Coalesce(
                Subquery(public_reporters, output_field=JSONField()),
                Value([], output_field=JSONField()),
            )
        )
        .values_list(*[source for _, source in EXPORT_COLUMNS])
    )


# --- the raw audit trail ---------------------------------------------------------------


def audit_trail_filter(filters: dict[str, str]) -> Q:
    q = Q()
    start, end = utc_range(filters)
    if start:
        q &= Q(created_at__gte=start)
    if end:
        q &= Q(created_at__lt=end)
    if filters.get("actor"):
        actor = filters["actor"]
        q &= Q(actor_label__iexact=actor) | Q(actor_user__username__iexact=actor)
    if filters.get("action"):
        action = filters["action"]
        q &= Q(action__startswith=action) if action.endswith(".") else Q(action=action)
    if filters.get("outcome"):
        outcome = filters["outcome"]
        q &= (
            Q(data__outcome=outcome)
            | Q(data__status=outcome)
            | Q(data__verdict=outcome)
            | Q(data__after__status=outcome)
        )
    if filters.get("platform"):
        slug = filters["platform"]
        case_ids = Case.objects.filter(account__platform__slug=slug).values(
            text_id=Cast("id", output_field=AuditEvent._meta.get_field("subject_id"))
        )
        request_ids = TakedownRequest.objects.filter(platform__slug=slug).values(
            text_id=Cast("id", output_field=AuditEvent._meta.get_field("subject_id"))
        )
        q &= (
            Q(actor_label=f"operator:{slug}")
            | Q(data__platform=slug)
            | Q(subject_type="moderation.case", subject_id__in=case_ids)
            | Q(subject_type="moderation.takedownrequest", subject_id__in=request_ids)
            | Q(
                subject_type="accounts.platform",
                subject_id__in=Platform.objects.filter(slug=slug).values(
                    text_id=Cast("id", output_field=AuditEvent._meta.get_field("subject_id"))
                ),
            )
        )
    if filters.get("category"):
        category = filters["category"]
        case_ids = Case.objects.filter(category=category).values(
            text_id=Cast("id", output_field=AuditEvent._meta.get_field("subject_id"))
        )
        q &= (
            Q(data__category=category)
            | Q(data__after__category=category)
            | Q(subject_type="moderation.case", subject_id__in=case_ids)
        )
    if filters.get("source_kind"):
        kind = filters["source_kind"]
        report_ids = Report.objects.filter(source_kind=kind).values(
            text_id=Cast("id", output_field=AuditEvent._meta.get_field("subject_id"))
        )
        by_source = Q(subject_type="reports.report", subject_id__in=report_ids)
        if kind == "public":
            by_source |= Q(actor_kind=AuditEvent.ActorKind.PUBLIC)
        else:
            labels = [
                f"organisation:{slug}"
                for slug in SourceOrganisation.objects.filter(kind=kind).values_list(
                    "slug", flat=True
                )
            ]
            by_source |= Q(actor_label__in=labels)
        q &= by_source
    return q


def audit_trail_page(*, filters: dict[str, str], cursor: str = "") -> Page:
    """One page of the raw trail, newest first; raises BadCursor for a foreign cursor."""
    queryset = AuditEvent.objects.filter(audit_trail_filter(filters)).order_by("-sequence")
    if cursor:
        (sequence,) = cursor_decode(cursor, (int,))
        queryset = queryset.filter(sequence__lt=sequence)
    rows = list(queryset[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, cursor_encode(rows[-1].sequence) if more else None)


def recent_exports(*, limit: int = 10) -> list[Export]:
    return list(Export.objects.select_related("requested_by").order_by("-created_at")[:limit])


@dataclass(frozen=True)
class LogState:
    """What the auditor's pages show of the log: the latest checkpoint, the sealed tree and
    how many events wait to be sealed."""

    checkpoint: AuditCheckpoint | None
    sealed: int
    sealed_at: Any
    unsealed: int

    @property
    def root_hex(self) -> str:
        return bytes(self.checkpoint.root).hex() if self.checkpoint else ""


def audit_log_state() -> LogState:
    checkpoint = AuditCheckpoint.objects.order_by("-size").first()
    head = (
        AuditTreeHead.objects.order_by("-size").values("size", "sealed_at", "last_sequence").first()
    )
    sealed = head["size"] if head else 0
    # Events are numbered in writing order and sealed in (transaction, number) order, so this
    # counts from the last sealed number: a close estimate, never a full count.
    after = head["last_sequence"] if head else 0
    unsealed = AuditEvent.objects.filter(sequence__gt=after, leaf__isnull=True).count()
    return LogState(checkpoint, sealed, head["sealed_at"] if head else None, unsealed)


@dataclass(frozen=True)
class SealingBacklog:
    """For the operators' metrics: events waiting to be sealed, how long the oldest has
    waited (the sealing lag), and the age of the latest signed checkpoint."""

    unsealed: int
    oldest_seconds: float
    checkpoint_seconds: float | None


def audit_sealing_backlog(*, now: datetime) -> SealingBacklog:
    head = AuditTreeHead.objects.order_by("-size").values("last_sequence").first()
    after = head["last_sequence"] if head else 0
    waiting = AuditEvent.objects.filter(sequence__gt=after, leaf__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    signed = AuditCheckpoint.objects.order_by("-size").values_list("signed_at", flat=True).first()
    return SealingBacklog(
        unsealed=waiting["count"],
        oldest_seconds=max(0.0, (now - waiting["oldest"]).total_seconds())
        if waiting["oldest"]
        else 0.0,
        checkpoint_seconds=(now - signed).total_seconds() if signed else None,
    )


# --- one case's full history -----------------------------------------------------------


@dataclass(frozen=True)
class CaseHistory:
    case: Case
    reports: list
    decisions: list
    requests: list
    attempts: dict
    events: list


def case_history(*, case_id: int) -> CaseHistory:
    case = get_object_or_404(
        Case.objects.select_related("account__platform", "previous_case", "claimed_by"),
        pk=case_id,
    )
    reports = list(case.reports.select_related("organisation").order_by("received_at", "id"))
    decisions = list(
        case.decisions.select_related(
            "moderator", "legal_basis", "approval__supervisor", "approval__request"
        ).order_by("created_at", "id")
    )
    requests = list(case.takedown_requests.select_related("platform").order_by("issued_at"))
    attempts: dict = {}
    for attempt in DeliveryAttempt.objects.filter(request__case=case).order_by(
        "request_id", "number"
    ):
        attempts.setdefault(attempt.request_id, []).append(attempt)
    subjects = Q(subject_type="moderation.case", subject_id=str(case.pk))
    subjects |= Q(subject_type="moderation.decision", subject_id__in=[str(d.pk) for d in decisions])
    approval_ids = [str(d.approval.pk) for d in decisions if hasattr(d, "approval")]
    subjects |= Q(subject_type="moderation.approval", subject_id__in=approval_ids)
    subjects |= Q(
        subject_type="moderation.takedownrequest", subject_id__in=[str(r.pk) for r in requests]
    )
    subjects |= Q(subject_type="reports.report", subject_id__in=[str(r.pk) for r in reports])
    events = list(AuditEvent.objects.filter(subjects).order_by("sequence"))
    for request in requests:
        request.attempt_list = attempts.get(request.pk, [])  # type: ignore[attr-defined]
    return CaseHistory(case, reports, decisions, requests, attempts, events)


# The decision log as CSV straight from PostgreSQL (COPY … TO STDOUT): the fast path for
# the largest exports. Same columns, order and masking as the Python writers; keep in step.
_UTC = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def _utc_text(column: str) -> str:
    return f"COALESCE(to_char({column} AT TIME ZONE 'UTC', {_UTC}), '')"


def _contact_sql(include_contacts: bool) -> str:
    """Per case, its public reporters as "name <email> phone; …" (aggregated once, joined);
    contact details erased under retention read as ERASED_CONTACT with the day."""
    if include_contacts:
        name, email, phone = "r.reporter_name", "r.reporter_email", "r.reporter_phone"
    else:  # the same masks as reports.access.mask_name / mask_email / mask_phone
        name = "(CASE WHEN r.reporter_name = '' THEN '' ELSE left(r.reporter_name, 1) || '•••' END)"
        email = (
            "(CASE WHEN r.reporter_email = '' THEN ''"
            " WHEN substr(r.reporter_email, strpos(r.reporter_email, '@') + 1) = ''"
            "   OR strpos(r.reporter_email, '@') = 0 THEN '•••'"
            " ELSE left(split_part(r.reporter_email, '@', 1), 1) || '•••@'"
            "   || substr(r.reporter_email, strpos(r.reporter_email, '@') + 1) END)"
        )
        phone = (
            "(CASE WHEN regexp_replace(r.reporter_phone, '\\D', '', 'g') = '' THEN ''"
            " ELSE '•••' || right(regexp_replace(r.reporter_phone, '\\D', '', 'g'), 2) END)"
        )
    day = _ERASED_DAY % "r.contact_deleted_at"
    erased = "'" + ERASED_CONTACT.replace("{day}", f"' || {day} || '") + "'"
    return f"""(SELECT r.case_id, string_agg(CASE WHEN r.contact_deleted_at IS NOT NULL
        THEN {erased} ELSE concat_ws(' ', NULLIF({name}, ''),
        CASE WHEN {email} <> '' THEN '<' || {email} || '>' END, NULLIF({phone}, '')) END,
        '; ' ORDER BY r.id) AS contacts
      FROM reports_report r WHERE r.source_kind = 'public' GROUP BY r.case_id)"""  # noqa: S608


def decision_log_csv_copy(*, filters: dict[str, str], include_contacts: bool) -> tuple[str, list]:
    """`COPY (…) TO STDOUT` of the filtered decision log as CSV with a header row."""
    where, params = "d.withdrawn_at IS NULL", ()  # as `decision_log`
    if decision_log_filter(filters):  # no filter: no semi-join over every decision
        ids_sql, params = (
            decision_log(filters=filters).order_by().values("id").query.sql_with_params()
        )
        where = f"d.id IN ({ids_sql})"
    columns = {
        "decision_id": "d.id",
        "decided_at": _utc_text("d.created_at"),
        "case_id": "d.case_id",
        "case_opened_at": _utc_text("c.opened_at"),
        "platform": "p.slug",
        "account": cell_sql("a.identifier"),
        "account_display_name": cell_sql("a.display_name"),
        "decision": "d.outcome",
        "category": "d.category",
        "legal_basis": cell_sql("COALESCE(lb.title, '')"),
        "urgency": "d.urgency",
        "rationale": cell_sql("d.rationale"),
        "moderator": "m.username",
        "source_kinds": "c.source_kinds",
        "report_count": "c.report_count",
        "approval_verdict": "COALESCE(ap.verdict, '')",
        "supervisor": "COALESCE(s.username, '')",
        "approval_comment": cell_sql("COALESCE(ap.comment, '')"),
        "approved_at": _utc_text("ap.created_at"),
        "takedown_request_id": "COALESCE(tr.id::text, '')",
        "takedown_status": "COALESCE(tr.status, '')",
        "takedown_issued_at": _utc_text("tr.issued_at"),
        "takedown_deadline": _utc_text("tr.deadline"),
        "takedown_resolved_at": _utc_text("tr.resolved_at"),
        "operator_reference": cell_sql("COALESCE(tr.operator_reference, '')"),
        "objection": "COALESCE(ob.receipt_code, '')",
        "objection_status": "COALESCE(ob.status, '')",
        "objection_decided_at": _utc_text("ob.decided_at"),
        "objection_reason": cell_sql("COALESCE(ob.reason, '')"),
        "restore_status": "COALESCE(rr.status, '')",
        "public_reporters": cell_sql("COALESCE(pr.contacts, '')"),
    }
    assert list(columns) == EXPORT_HEADER
    select = ",\n  ".join(f'{expr} AS "{name}"' for name, expr in columns.items())
    # Only constants from this module are spliced in; the filters' values stay parameters.
    sql = f"""COPY (
SELECT
  {select}
FROM moderation_decision d
JOIN moderation_case c ON c.id = d.case_id
JOIN accounts_chataccount a ON a.id = c.account_id
JOIN accounts_platform p ON p.id = a.platform_id
JOIN auth_user m ON m.id = d.moderator_id
LEFT JOIN moderation_legalbasis lb ON lb.id = d.legal_basis_id
LEFT JOIN moderation_approval ap ON ap.decision_id = d.id
LEFT JOIN auth_user s ON s.id = ap.supervisor_id
LEFT JOIN moderation_takedownrequest tr ON tr.approval_id = ap.id
LEFT JOIN moderation_objection ob ON ob.takedown_id = tr.id
LEFT JOIN moderation_restorerequest rr ON rr.objection_id = ob.id
LEFT JOIN {_contact_sql(include_contacts)} pr ON pr.case_id = d.case_id
WHERE {where}
ORDER BY d.created_at DESC, d.id DESC
) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"""  # noqa: S608
    return sql, list(params)
