"""Reads for the chat account page and the global search."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.identifiers import normalise_handle, normalise_phone
from accounts.models import ChatAccount
from moderation.audit import action_label
from moderation.models import (
    Approval,
    AuditEvent,
    Case,
    Decision,
    DeliveryAttempt,
    Objection,
    RestoreAttempt,
    RestoreRequest,
    TakedownRequest,
)
from reports.models import Report

# The newest this many of each kind of record make the timeline; an account reported
# thousands of times shows its recent history, and the page says so.
TIMELINE_PER_KIND = 300


def linked_accounts(*, account: ChatAccount) -> QuerySet[ChatAccount]:
    """Accounts on any platform that share a phone number with this one (GIN index)."""
    phones = list(account.phone_numbers)
    if account.identifier_kind == ChatAccount.IdentifierKind.PHONE:
        phones.append(account.identifier)
    if not phones:
        return ChatAccount.objects.none()
    return (
        ChatAccount.objects.filter(Q(phone_numbers__overlap=phones) | Q(identifier__in=phones))
        .exclude(pk=account.pk)
        .select_related("platform")
        .order_by("platform__name", "identifier")
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # report, case, decision, approval, request, delivery, objection, restore, audit
    title: str
    detail: str = ""
    case_id: int | None = None
    url: str = ""  # where the entry's record is shown, when it is not the case page


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def account_timeline(
    *, account: ChatAccount, with_deliveries: bool, with_objections: bool = False
) -> tuple[list[TimelineEntry], bool]:
    """Every report, case, decision, approval, takedown request, delivery attempt, objection,
    restore request and audit event about the account, oldest first; one query per kind,
    never one per row. The flag says whether older entries were left out. Without
    `with_deliveries` (a moderator's view, `access.can_read_deliveries`) takedown and restore
    requests, their delivery and their audit events are left out; without `with_objections`
    (`access.OBJECTION_READERS`) the owner's objections and their audit events."""
    n = TIMELINE_PER_KIND
    entries: list[TimelineEntry] = []
    truncated = False

    def newest(qs: QuerySet[Any], order: str) -> list[Any]:
        nonlocal truncated
        rows = list(qs.order_by(f"-{order}")[: n + 1])
        truncated |= len(rows) > n
        return rows[:n]

    reports = newest(account.reports.select_related("organisation"), "received_at")
    for r in reports:
        source = r.organisation.name if r.organisation else _("Public")
        entries.append(
            TimelineEntry(
                r.received_at,
                "report",
                _("Report %(code)s received from %(source)s")
                % {"code": r.receipt_code, "source": source},
                f"{r.get_category_display()}"
                + (f" · {r.external_reference}" if r.external_reference else ""),
                r.case_id,
            )
        )
    cases = newest(Case.objects.filter(account=account), "opened_at")
    for c in cases:
        entries.append(
            TimelineEntry(
                c.opened_at,
                "case",
                _("Case %(id)s opened") % {"id": c.pk},
                c.get_category_display(),
                c.pk,
            )
        )
        if c.closed_at:
            entries.append(
                TimelineEntry(
                    c.closed_at,
                    "case",
                    _("Case %(id)s closed (%(status)s)")
                    % {"id": c.pk, "status": c.get_status_display()},
                    "",
                    c.pk,
                )
            )
    decisions = newest(
        Decision.objects.filter(case__account=account).select_related("moderator", "legal_basis"),
        "created_at",
    )
    for d in decisions:
        entries.append(
            TimelineEntry(
                d.created_at,
                "decision",
                _("%(outcome)s by %(who)s")
                % {"outcome": d.get_outcome_display(), "who": d.moderator.get_username()}
                + (" · " + _("withdrawn by its author") if d.withdrawn_at else ""),
                d.rationale,
                d.case_id,
            )
        )
    approvals = newest(
        Approval.objects.filter(decision__case__account=account).select_related(
            "supervisor", "decision"
        ),
        "created_at",
    )
    for a in approvals:
        entries.append(
            TimelineEntry(
                a.created_at,
                "approval",
                _("Proposal %(verdict)s by %(who)s")
                % {"verdict": a.get_verdict_display().lower(), "who": a.supervisor.get_username()},
                a.comment,
                a.decision.case_id,
            )
        )
    requests = (
        newest(
            TakedownRequest.objects.filter(account=account).select_related("platform"),
            "issued_at",
        )
        if with_deliveries
        else []
    )
    for t in requests:
        entries.append(
            TimelineEntry(
                t.issued_at,
                "request",
                _("Takedown request %(id)s issued to %(platform)s")
                % {"id": t.pk, "platform": t.platform.name},
                _("Deadline %(deadline)s · now %(status)s")
                % {"deadline": _local(t.deadline), "status": t.get_status_display()},
                t.case_id,
            )
        )
        if t.resolved_at:
            entries.append(
                TimelineEntry(
                    t.resolved_at,
                    "request",
                    _("Operator reported: %(status)s") % {"status": t.get_status_display()},
                    t.operator_reference,
                    t.case_id,
                )
            )
    attempts = (
        newest(DeliveryAttempt.objects.filter(request__account=account), "started_at")
        if with_deliveries
        else []
    )
    for at in attempts:
        entries.append(
            TimelineEntry(
                at.started_at,
                "delivery",
                _("Delivery attempt %(n)s: %(outcome)s")
                % {"n": at.number, "outcome": at.outcome_label},
                f"HTTP {at.http_status}" if at.http_status else at.error,
            )
        )
    objections = (
        newest(
            Objection.objects.filter(account=account).select_related("decided_by"),
            "received_at",
        )
        if with_objections
        else []
    )
    for o in objections:
        url = reverse("moderation:objection_detail", args=[o.pk])
        entries.append(
            TimelineEntry(
                o.received_at,
                "objection",
                _("Objection %(code)s received: %(source)s")
                % {"code": o.receipt_code, "source": o.get_source_display()},
                _("A decision is due by %(deadline)s") % {"deadline": _local(o.deadline)},
                o.case_id,
                url,
            )
        )
        if o.decided_at:
            entries.append(
                TimelineEntry(
                    o.decided_at,
                    "objection",
                    _("Objection %(code)s decided by %(who)s: %(outcome)s")
                    % {
                        "code": o.receipt_code,
                        "who": o.decided_by.get_username() if o.decided_by else "",
                        "outcome": o.get_status_display(),
                    },
                    o.reason,
                    o.case_id,
                    url,
                )
            )
    restores = (
        newest(
            RestoreRequest.objects.filter(account=account).select_related("platform"),
            "issued_at",
        )
        if with_deliveries
        else []
    )
    for r in restores:
        url = reverse("moderation:objection_detail", args=[r.objection_id])
        entries.append(
            TimelineEntry(
                r.issued_at,
                "restore",
                _("Restore request %(id)s issued to %(platform)s")
                % {"id": r.pk, "platform": r.platform.name},
                _("now %(status)s") % {"status": r.get_status_display()},
                None,
                url,
            )
        )
        if r.resolved_at:  # the operator's answer, or a supervisor's cancelling
            entries.append(
                TimelineEntry(
                    r.resolved_at,
                    "restore",
                    _("Restore request cancelled")
                    if r.status == RestoreRequest.Status.CANCELLED
                    else _("Operator reported: %(status)s") % {"status": r.get_status_display()},
                    r.operator_reference
                    if r.status == RestoreRequest.Status.RESTORED
                    else r.last_error,
                    None,
                    url,
                )
            )
    restore_attempts = (
        newest(RestoreAttempt.objects.filter(request__account=account), "started_at")
        if with_deliveries
        else []
    )
    for at in restore_attempts:
        entries.append(
            TimelineEntry(
                at.started_at,
                "delivery",
                _("Restore delivery attempt %(n)s: %(outcome)s")
                % {"n": at.number, "outcome": at.outcome_label},
                f"HTTP {at.http_status}" if at.http_status else at.error,
            )
        )
    subjects = Q(subject_type="accounts.chataccount", subject_id=str(account.pk))
    for label, objects in (
        ("moderation.case", cases),
        ("reports.report", reports),
        ("moderation.decision", decisions),
        ("moderation.approval", approvals),
        ("moderation.takedownrequest", requests),
        ("moderation.objection", objections),
        ("moderation.restorerequest", restores),
    ):
        if objects:
            subjects |= Q(subject_type=label, subject_id__in=[str(o.pk) for o in objects])
    for e in newest(AuditEvent.objects.filter(subjects), "sequence"):
        entries.append(
            TimelineEntry(
                e.created_at,
                "audit",
                action_label(e.action),
                _("by %(actor)s · %(subject)s")
                % {"actor": e.actor_label, "subject": e.subject_label},
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries, truncated


# --- Global search -------------------------------------------------------------------------

SEARCH_LIMIT = 20
_RECEIPT = re.compile(r"^(?:SR)?-?([2-9A-HJ-NP-Z]{4})-?([2-9A-HJ-NP-Z]{4})$")


@dataclass
class SearchResults:
    query: str
    message: str = ""
    accounts: list[ChatAccount] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    requests: list[TakedownRequest] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.reports or self.requests)


def search_everything(*, query: str, with_requests: bool) -> SearchResults:
    """Accounts by identifier in any format, handle prefix/substring or display name; reports
    by receipt code or external reference; takedown requests by id (`with_requests`, for
    those who may read them). Every branch is an index lookup (unique, GIN on phone numbers,
    trigram on identifier and display name)."""
    # Control characters (NUL above all, which PostgreSQL refuses in text) mean nothing here.
    text = "".join(ch for ch in (query or "") if unicodedata.category(ch)[0] != "C").strip()
    results = SearchResults(query=text)
    if not text:
        results.message = _(
            "Type an account identifier or phone number, a display name, a receipt code, "
            "a report reference or a takedown request id."
        )
        return results
    if len(text) > 200:
        results.message = _("The search text is longer than 200 characters.")
        return results
    if sum(ch.isalnum() for ch in text) < 2:
        results.message = _("Type at least two letters or digits.")
        return results

    exact = Q()
    phone = normalise_phone(text)
    if phone:
        exact |= Q(identifier=phone) | Q(phone_numbers__contains=[phone])
    handle = normalise_handle(text)
    if handle:
        exact |= Q(identifier=handle)
    fuzzy = Q()
    if len(handle) >= 3:
        fuzzy |= Q(identifier__contains=handle)
    if len(text) >= 3:
        fuzzy |= Q(display_name__icontains=text)
    if exact or fuzzy:
        results.accounts = list(
            ChatAccount.objects.filter(exact | fuzzy)
            .annotate(
                rank=When_(
                    When(exact, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
                if exact
                else Value(1)
            )
            .select_related("platform")
            .order_by("rank", "-last_reported_at", "pk")[:SEARCH_LIMIT]
        )

    reports = Q(external_reference=text)
    receipt = _RECEIPT.match(text.upper().replace(" ", ""))
    if receipt:
        reports |= Q(receipt_code=f"SR-{receipt.group(1)}-{receipt.group(2)}")
    results.reports = list(
        Report.objects.filter(reports)
        .select_related("organisation", "account__platform")
        .order_by("-received_at")[:SEARCH_LIMIT]
    )

    try:
        request_id = uuid.UUID(text)
    except ValueError:
        request_id = None
    if request_id is not None and with_requests:
        results.requests = list(
            TakedownRequest.objects.filter(pk=request_id).select_related("platform", "account")
        )
    if results.empty:
        results.message = _("Nothing matches “%(query)s”.") % {"query": text}
    return results
