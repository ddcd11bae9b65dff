"""Decisions on cases (issue 4): dismiss, propose a takedown or escalate; notes; a
reviewer's evidence preferences (keep blurred; blur level and grayscale, issue 16).

A decision is written by a conditional UPDATE on the case's `version` (the row count says who
won), so two people deciding the same case at once never both succeed; `Decision` has a
unique (case, case_version) as the database's backstop. Who may decide is
`moderation.access.decidable_cases`, the same rule the case page shows. The audit event is
written in the same transaction as the change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.categories import Category, Urgency
from moderation.access import can_review, can_supervise, decidable_cases
from moderation.audit import Actor, audit_record
from moderation.cases.glance import PriorTakedown, account_taken_down
from moderation.cases.services.claims import claim_lease
from moderation.cases.services.errors import CaseActionError, CaseChanged
from moderation.models import (
    Approval,
    BlurLevel,
    Case,
    CaseNote,
    Decision,
    LegalBasis,
    StaffPreference,
)

# --- Decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    outcome: str
    rationale: str
    category: str = ""
    legal_basis_id: int | None = None
    urgency: str = Urgency.NORMAL
    # Why take down an account that was already taken down (required then, issue 16).
    repeat_reason: str = ""


NEXT_STATUS: dict[str, str] = {
    Decision.Outcome.DISMISS: Case.Status.DISMISSED,
    Decision.Outcome.PROPOSE_TAKEDOWN: Case.Status.PROPOSED,
    Decision.Outcome.ESCALATE: Case.Status.ESCALATED,
}


def _refusal(*, case_id: int, version: int, user: User) -> CaseActionError:
    """Why a conditional update matched no row, in words a moderator can act on."""
    case = Case.objects.select_related("claimed_by").filter(pk=case_id).first()
    if case is None:
        return CaseActionError(_("There is no such case."))
    if case.version != version:
        return CaseChanged()
    holder = case.claimed_by
    if case.status == Case.Status.IN_REVIEW and holder is not None and holder.pk == user.pk:
        return CaseActionError(
            _(
                "Your claim on this case ran out; it goes back to the queue. "
                "Claim it again to decide."
            )
        )
    if case.status == Case.Status.IN_REVIEW and holder is not None and holder.pk != user.pk:
        return CaseActionError(
            _("%(user)s holds this case; only they can decide it now.")
            % {"user": holder.get_username()}
        )
    if case.status == Case.Status.ESCALATED:
        return CaseActionError(_("An escalated case is decided by a supervisor."))
    return CaseActionError(_("This case is no longer open for a decision."))


def _validate(data: DecisionInput) -> LegalBasis | None:
    if data.outcome not in NEXT_STATUS:
        raise CaseActionError(_("Unknown decision."))
    if not data.rationale.strip():
        reasons: dict[str, str] = {
            Decision.Outcome.DISMISS: _("Give a reason for dismissing."),
            Decision.Outcome.ESCALATE: _("Say why you escalate the case."),
        }
        raise CaseActionError(reasons.get(data.outcome, _("Give a rationale for the takedown.")))
    if data.outcome != Decision.Outcome.PROPOSE_TAKEDOWN:
        return None
    if data.category not in Category.values:
        raise CaseActionError(_("Choose the category of the takedown."))
    if data.urgency not in Urgency.values:
        raise CaseActionError(_("Choose the urgency of the takedown."))
    basis = None
    if data.legal_basis_id is not None:
        basis = LegalBasis.objects.filter(pk=data.legal_basis_id, active=True).first()
    if basis is None:
        raise CaseActionError(_("Choose a legal basis from the list."))
    if not basis.covers(data.category):
        raise CaseActionError(
            _(
                "%(basis)s does not cover the category “%(category)s”. Choose a legal basis "
                "that covers it: the suggested ones are listed first."
            )
            % {"basis": basis.title, "category": Category(data.category).label}
        )
    return basis


def _with_repeat_reason(data: DecisionInput, prior: PriorTakedown | None) -> str:
    """The rationale to store: a takedown of an account that was already taken down must say
    why again, and the reason is kept as a labelled paragraph of the rationale (which the
    approvers, the decision log and the request's summary all read)."""
    rationale = data.rationale.strip()
    if prior is None:
        return rationale
    reason = data.repeat_reason.strip()
    if not reason:
        raise CaseActionError(
            _(
                "This account was already taken down. Say why it must be taken down again "
                "(“Why take it down again?”)."
            )
        )
    return f"{rationale}\n\n{_('Why take it down again?')} {reason}"


def _repeat_audit(data: DecisionInput, prior: PriorTakedown | None) -> dict:
    """What the decision's audit event records of an earlier takedown of the account."""
    if prior is None:
        return {}
    return {
        "repeat_reason": data.repeat_reason.strip(),
        "already_taken_down": {
            "request": str(prior.request.pk) if prior.request else None,
            "at": prior.taken_down_at.isoformat() if prior.taken_down_at else None,
        },
    }


def case_decide(
    *,
    case_id: int,
    version: int,
    user: User,
    data: DecisionInput,
    batch_id: uuid.UUID | None = None,
    ip_address: str | None = None,
) -> Decision:
    """Record a decision on the version of the case the user saw.

    The case row is changed by a conditional UPDATE … WHERE version = N: if anyone claimed,
    released or decided the case since the form was loaded, no row matches and the caller
    gets `CaseChanged` — never a second decision.
    """
    if not can_review(user):
        raise CaseActionError(_("Only moderators and supervisors decide cases."))
    basis = _validate(data)
    new_status = NEXT_STATUS[data.outcome]
    now = timezone.now()
    try:
        with transaction.atomic():
            # Every change of status bumps the version, so the status read at version N is
            # the status the conditional update below replaces, if it wins.
            seen = Case.objects.filter(pk=case_id, version=version).values("status").first()
            candidates = Case.objects.filter(pk=case_id, version=version).filter(
                decidable_cases(user)
            )
            if data.outcome == Decision.Outcome.ESCALATE:
                candidates = candidates.exclude(status=Case.Status.ESCALATED)
            updated = candidates.update(
                status=new_status,
                claimed_by=None,
                claim_expires_at=None,
                version=F("version") + 1,
                closed_at=now if new_status == Case.Status.DISMISSED else None,
                updated_at=now,
            )
            if updated != 1 or seen is None:
                raise _refusal(case_id=case_id, version=version, user=user)
            case = Case.objects.select_related("account").get(pk=case_id)
            prior = None
            if data.outcome == Decision.Outcome.PROPOSE_TAKEDOWN:
                prior = account_taken_down(account=case.account, case_id=case.pk)
            rationale = _with_repeat_reason(data, prior)
            decision = Decision.objects.create(
                case=case,
                moderator=user,
                outcome=data.outcome,
                category=data.category if basis else "",
                legal_basis=basis,
                urgency=data.urgency if basis else Urgency.NORMAL,
                rationale=rationale,
                case_version=version,
                batch_id=batch_id,
                created_at=now,
                status_before=seen["status"],
            )
            audit_record(
                actor=Actor.staff(user),
                action=f"decision.{data.outcome}",
                subject=case,
                data={
                    "decision": decision.pk,
                    "before": {"status": seen["status"], "version": version},
                    "after": {"status": new_status, "version": case.version},
                    "category": decision.category,
                    "legal_basis": basis.code if basis else "",
                    "urgency": decision.urgency,
                    "rationale": decision.rationale,
                    "batch_id": str(batch_id) if batch_id else None,
                    **_repeat_audit(data, prior),
                },
                ip_address=ip_address,
            )
    except IntegrityError as error:  # the unique (case, case_version) backstop
        raise CaseChanged() from error
    return decision


def decision_undo_deadline(decision: Decision) -> datetime:
    """Until when the author may undo `decision` (DECISION_UNDO_SECONDS after it)."""
    return decision.created_at + timedelta(seconds=settings.DECISION_UNDO_SECONDS)


def decision_withdraw(
    *, case_id: int, decision_id: int, user: User, ip_address: str | None = None
) -> Decision:
    """Undo a decision: its author, within the undo window, while nothing has followed from it.

    The case goes back to the status it had before (a case the author had claimed is theirs
    again, for a fresh lease); the decision stays, marked withdrawn, so the audit trail and
    the exports still show what happened. The case row is locked first, the lock an approval
    also takes, so an undo and an approval of the same proposal cannot both succeed.
    """
    if not can_review(user):
        raise CaseActionError(_("Only moderators and supervisors decide cases."))
    now = timezone.now()
    with transaction.atomic():
        decision = (
            Decision.objects.select_related("case")
            .select_for_update(of=("case",))
            .filter(pk=decision_id, case_id=case_id)
            .first()
        )
        if decision is None:
            raise CaseActionError(_("There is no such decision."))
        case = decision.case
        if decision.moderator_id != user.pk:
            raise CaseActionError(_("Only the person who made a decision can undo it."))
        if decision.withdrawn_at is not None:
            raise CaseActionError(_("This decision has already been undone."))
        if now > decision_undo_deadline(decision) or not decision.status_before:
            raise CaseActionError(_("The time to undo this decision has passed."))
        if Approval.objects.filter(decision=decision).exists():
            raise CaseActionError(
                _("A supervisor has already acted on this proposal; it can no longer be undone.")
            )
        later = Decision.objects.filter(case=case, case_version__gt=decision.case_version)
        if case.status != NEXT_STATUS[decision.outcome] or later.exists():
            raise CaseActionError(
                _("The case has moved on since your decision; it can no longer be undone.")
            )
        reopened = Case.objects.filter(
            account_id=case.account_id, status__in=Case.OPEN_STATUSES
        ).exclude(pk=case.pk)
        if reopened.exists():
            raise CaseActionError(
                _(
                    "A new case has been opened on this account since your decision; "
                    "it can no longer be undone."
                )
            )
        before = {"status": case.status, "version": case.version}
        case.status = decision.status_before
        if case.status == Case.Status.IN_REVIEW:
            case.claimed_by = user
            case.claim_expires_at = now + claim_lease()
        else:
            case.claimed_by = None
            case.claim_expires_at = None
        case.closed_at = None
        case.version += 1
        case.save(
            update_fields=[
                "status",
                "claimed_by",
                "claim_expires_at",
                "closed_at",
                "version",
                "updated_at",
            ]
        )
        decision.withdrawn_at = now
        decision.save(update_fields=["withdrawn_at"])
        audit_record(
            actor=Actor.staff(user),
            action="decision.withdrawn",
            subject=case,
            data={
                "decision": decision.pk,
                "outcome": decision.outcome,
                "before": before,
                "after": {
                    "status": case.status,
                    "version": case.version,
                    "claimed_by": case.claimed_by_id,
                },
            },
            ip_address=ip_address,
        )
    return decision


@dataclass(frozen=True)
class BulkResult:
    batch_id: uuid.UUID
    dismissed: list[int]
    skipped: list[int]


def cases_dismiss_bulk(
    *,
    case_versions: dict[int, int],
    supervisor: User,
    reason: str,
    ip_address: str | None = None,
) -> BulkResult:
    """A supervisor dismisses a selection: one decision and one audit event per case, all
    sharing one batch id. A case that changed since the list was loaded is skipped and named,
    the others are still dismissed (each in its own transaction)."""
    if not can_supervise(supervisor):
        raise CaseActionError(_("Only supervisors dismiss cases in bulk."))
    if not reason.strip():
        raise CaseActionError(_("Give a reason for dismissing."))
    batch_id = uuid.uuid4()
    dismissed, skipped = [], []
    for case_id, version in sorted(case_versions.items()):
        try:
            case_decide(
                case_id=case_id,
                version=version,
                user=supervisor,
                data=DecisionInput(outcome=Decision.Outcome.DISMISS, rationale=reason),
                batch_id=batch_id,
                ip_address=ip_address,
            )
        except CaseChanged:
            skipped.append(case_id)
        else:
            dismissed.append(case_id)
    return BulkResult(batch_id, dismissed, skipped)


# --- Notes and preferences ----------------------------------------------------------------


def case_note_add(
    *, case_id: int, author: User, body: str, ip_address: str | None = None
) -> CaseNote:
    if not can_review(author):
        raise CaseActionError(_("Only moderators and supervisors add notes."))
    body = body.strip()
    if not body:
        raise CaseActionError(_("A note cannot be empty."))
    with transaction.atomic():
        case = Case.objects.filter(pk=case_id).first()
        if case is None:
            raise CaseActionError(_("There is no such case."))
        note = CaseNote(case=case, author=author, body=body[:10_000])
        note.full_clean()
        note.save()
        audit_record(
            actor=Actor.staff(author),
            action="case.note_added",
            subject=case,
            data={"note": note.pk, "after": {"body": note.body}},
            ip_address=ip_address,
        )
    return note


class Unchanged(Enum):
    """A preference left as it is (grayscale's None already means "the organisation's")."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


def staff_preference_set(
    *,
    user: User,
    keep_evidence_blurred: bool | Unchanged = UNCHANGED,
    evidence_blur: str | Unchanged = UNCHANGED,
    evidence_grayscale: bool | None | Unchanged = UNCHANGED,
    ip_address: str | None = None,
) -> StaffPreference:
    """Change a person's evidence preferences: keep evidence blurred, their blur level ("" =
    the organisation's default) and grayscale (None = the organisation's default). What is
    not passed stays; what changed is audited with its values before and after."""
    if evidence_blur is not UNCHANGED and evidence_blur not in ("", *BlurLevel.values):
        raise CaseActionError(_("Choose a blur level from the list."))
    wanted = {
        field: value
        for field, value in (
            ("keep_evidence_blurred", keep_evidence_blurred),
            ("evidence_blur", evidence_blur),
            ("evidence_grayscale", evidence_grayscale),
        )
        if value is not UNCHANGED
    }
    with transaction.atomic():
        preference, _created = StaffPreference.objects.select_for_update().get_or_create(user=user)
        before = {
            field: getattr(preference, field)
            for field, value in wanted.items()
            if getattr(preference, field) != value
        }
        if not before:
            return preference
        after = {field: wanted[field] for field in before}
        for field, value in after.items():
            setattr(preference, field, value)
        preference.save(update_fields=list(after))
        audit_record(
            actor=Actor.staff(user),
            action="preference.changed",
            subject=preference,
            data={"before": before, "after": after},
            ip_address=ip_address,
        )
    return preference
