"""Four-eyes approval: a supervisor approves or rejects another person's proposal; an
approval writes the TakedownRequest in the same transaction (the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.categories import URGENT_CATEGORIES, Category, Urgency
from accounts.models import ChatAccount
from config.roles import Role, has_role
from moderation.access import RESTRICTED_MESSAGE, may_open_case
from moderation.audit import Actor
from moderation.models import (
    Approval,
    Case,
    CaseNote,
    Decision,
    TakedownRequest,
)
from moderation.takedowns.services.common import (
    DEADLINE,
    URGENT_DEADLINE,
    ApprovalRefused,
    Status,
    account_set_status,
    audit_batch,
    audit_later,
    case_set_status,
    enqueue_delivery,
)

# --- approval ------------------------------------------------------------------------------


def takedown_deadline(*, issued_at: datetime, urgency: str) -> datetime:
    return issued_at + (URGENT_DEADLINE if urgency == Urgency.URGENT else DEADLINE)


def takedown_urgency(*, decision: Decision, marked_urgent: bool = False) -> str:
    """Urgent (4 hours) for urgent categories, or when the moderator or supervisor says so."""
    category = decision.category or decision.case.category
    if marked_urgent or decision.urgency == Urgency.URGENT or category in URGENT_CATEGORIES:
        return Urgency.URGENT
    return Urgency.NORMAL


def _locked_proposal(*, decision_id: int, supervisor: User) -> Decision:
    """The decision with its case row locked, after every check a person can be told about."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise ApprovalRefused(_("Only supervisors may approve or reject proposals."))
    # One query: the decision, and its case row locked, so that two supervisors deciding at
    # once are serialised here.
    decision = (
        Decision.objects.select_related("case__account__platform", "legal_basis")
        .select_for_update(of=("case",))
        .filter(pk=decision_id)
        .first()
    )
    if decision is None or decision.outcome != Decision.Outcome.PROPOSE_TAKEDOWN:
        raise ApprovalRefused(_("There is no such takedown proposal."))
    if decision.withdrawn_at is not None:
        raise ApprovalRefused(_("Its author has withdrawn this proposal."))
    case = decision.case
    if decision.moderator_id == supervisor.pk:
        raise ApprovalRefused(
            _("You cannot decide on your own proposal: another supervisor must (four eyes).")
        )
    if not may_open_case(supervisor, case):
        raise ApprovalRefused(str(RESTRICTED_MESSAGE))
    if Approval.objects.filter(decision=decision).exists():
        raise ApprovalRefused(_("This proposal has already been decided."))
    if case.status != Case.Status.PROPOSED:
        raise ApprovalRefused(_("The case is no longer awaiting approval."))
    return decision


def _check_basis_covers(decision: Decision) -> None:
    """Checked again at approval: an administrator may have changed what a basis covers
    since the proposal was made."""
    category = decision.category or decision.case.category
    basis = decision.legal_basis
    if basis is None or not basis.covers(category):
        raise ApprovalRefused(
            _(
                "The legal basis “%(basis)s” does not cover the category “%(category)s”. "
                "Reject the proposal so that it can be proposed under a basis that covers it."
            )
            % {
                "basis": basis.title if basis else "—",
                "category": Category(category).label if category in Category.values else category,
            }
        )


def _summary(decision: Decision) -> str:
    return decision.rationale.strip()[:2000]


def proposal_approve(
    *,
    decision_id: int,
    supervisor: User,
    comment: str = "",
    marked_urgent: bool = False,
    ip_address: str | None = None,
) -> TakedownRequest:
    """Approve another person's proposal: the approval, the outbox row and their audit events
    commit together; the delivery task is queued after the commit."""
    with transaction.atomic(), audit_batch():
        decision = _locked_proposal(decision_id=decision_id, supervisor=supervisor)
        case = decision.case
        _check_basis_covers(decision)
        account = case.account
        now = timezone.now()
        actor = Actor.staff(supervisor)
        approval = Approval(
            decision=decision,
            decision_author_id=decision.moderator_id,
            supervisor=supervisor,
            verdict=Approval.Verdict.APPROVED,
            comment=comment.strip(),
            created_at=now,
        )
        # The database checks the rest: one approval per decision, four eyes, the author.
        approval.save(force_insert=True)
        urgency = takedown_urgency(decision=decision, marked_urgent=marked_urgent)
        request = TakedownRequest(
            id=uuid.uuid4(),
            approval=approval,
            case=case,
            platform=account.platform,
            account=account,
            category=decision.category or case.category,
            legal_basis=decision.legal_basis.title if decision.legal_basis else "",
            urgency=urgency,
            summary=_summary(decision),
            issued_at=now,
            deadline=takedown_deadline(issued_at=now, urgency=urgency),
            status=Status.PENDING,
            next_attempt_at=now,
        )
        request.save(force_insert=True)
        audit_later(
            actor=actor,
            action="takedown.issued",
            subject=request,
            data={
                "platform": account.platform.slug,
                "account": account.identifier,
                "urgency": urgency,
                "deadline": request.deadline,
                "after": {"status": request.status},
            },
            ip_address=ip_address,
        )
        # One event for the approval and what it changes, one for the request it issues:
        # every append holds the audit chain's lock, which all writers share.
        case_change = case_set_status(case=case, status=Case.Status.APPROVED, audit=False)
        account_change = account_set_status(
            account=account, status=ChatAccount.Status.TAKEDOWN_REQUESTED, audit=False
        )
        audit_later(
            actor=actor,
            action="approval.approved",
            subject=approval,
            data={
                "decision": decision.pk,
                "comment": approval.comment,
                "request": str(request.pk),
                "case": {"id": case.pk, **case_change},
                "account": {"id": account.pk, **account_change},
            },
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: enqueue_delivery(str(request.pk)))
    return request


def proposal_reject(
    *, decision_id: int, supervisor: User, comment: str, ip_address: str | None = None
) -> Approval:
    """Reject: the case goes back to the queue (open, unclaimed) with the comment as a note."""
    comment = (comment or "").strip()
    if not comment:
        raise ApprovalRefused(_("Say why the proposal is rejected: the moderator will read it."))
    with transaction.atomic(), audit_batch():
        decision = _locked_proposal(decision_id=decision_id, supervisor=supervisor)
        case = decision.case
        actor = Actor.staff(supervisor)
        approval = Approval(
            decision=decision,
            decision_author_id=decision.moderator_id,
            supervisor=supervisor,
            verdict=Approval.Verdict.REJECTED,
            comment=comment,
        )
        # The database checks the rest: one approval per decision, four eyes, the author.
        approval.save(force_insert=True)
        audit_later(
            actor=actor,
            action="approval.rejected",
            subject=approval,
            data={"decision": decision.pk, "case": case.pk, "comment": comment},
            ip_address=ip_address,
        )
        note = CaseNote.objects.create(
            case=case,
            author=supervisor,
            body=_("Takedown proposal rejected: %(comment)s") % {"comment": comment},
        )
        audit_later(
            actor=actor,
            action="case.note_added",
            subject=case,
            data={"note": note.pk, "body": note.body},
            ip_address=ip_address,
        )
        case_set_status(case=case, status=Case.Status.OPEN, actor=actor, ip=ip_address)
    return approval


@dataclass
class BulkResult:
    approved: list[TakedownRequest] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (decision id, why)


def proposals_bulk_approve(
    *,
    decision_ids: Iterable[int],
    supervisor: User,
    comment: str = "",
    ip_address: str | None = None,
) -> BulkResult:
    """Approve each selected proposal in its own transaction: one that cannot be approved
    (e.g. the supervisor's own) is reported and does not hold back the others."""
    result = BulkResult()
    for decision_id in dict.fromkeys(decision_ids):
        try:
            result.approved.append(
                proposal_approve(
                    decision_id=decision_id,
                    supervisor=supervisor,
                    comment=comment,
                    ip_address=ip_address,
                )
            )
        except ApprovalRefused as refusal:
            result.refused.append((decision_id, str(refusal)))
    return result
