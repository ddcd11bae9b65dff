"""Claims and decisions on cases (issue 4): who holds a case, and what was decided on it.

Two people can race on a case at every step, so every write here is either a row lock taken
with `SKIP LOCKED` (claiming the next case: each caller gets a different row) or a conditional
UPDATE on the case's `version` (deciding: the row count says who won). The audit event is
written in the same transaction as the change; `Decision` has a unique (case, case_version)
as the database's backstop against a double decision.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.categories import Category, Urgency
from moderation.access import can_review, can_supervise
from moderation.models import Case, CaseNote, Decision, LegalBasis, StaffPreference
from moderation.services.audit import Actor, audit_record


def claim_lease() -> timedelta:
    return timedelta(minutes=getattr(settings, "SARING_CLAIM_LEASE_MINUTES", 15))


class CaseActionError(Exception):
    """A clear reason an action on a case was refused; views show it as it is."""


class CaseChanged(CaseActionError):
    """The case changed since the form was loaded: someone else decided, claimed or released."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "This case changed since you opened it (someone else acted on it). "
                "Nothing was saved: look at it again before deciding."
            )
        )


def _case_state(case: Case) -> dict:
    return {
        "status": case.status,
        "claimed_by": case.claimed_by_id,
        "claim_expires_at": case.claim_expires_at,
        "version": case.version,
    }


# --- Claims -------------------------------------------------------------------------------


def _claim(case: Case, *, moderator, ip_address: str | None) -> None:
    """Give the locked, open case to the moderator for one lease; the audit event with it."""
    before = _case_state(case)
    case.status = Case.Status.IN_REVIEW
    case.claimed_by = moderator
    case.claim_expires_at = timezone.now() + claim_lease()
    case.version += 1
    case.save(update_fields=["status", "claimed_by", "claim_expires_at", "version"])
    audit_record(
        actor=Actor.staff(moderator),
        action="case.claimed",
        subject=case,
        data={"before": before, "after": _case_state(case)},
        ip_address=ip_address,
    )


def case_claim_next(*, moderator, ip_address: str | None = None) -> Case | None:
    """Claim the most important unclaimed open case for `moderator`, or None if none is left.

    `FOR UPDATE SKIP LOCKED` makes concurrent callers walk past each other's rows instead of
    waiting on them, so twenty moderators pressing "next" at once get twenty different cases.
    """
    if not can_review(moderator):
        raise CaseActionError(_("Only moderators and supervisors claim cases."))
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Case.Status.OPEN)
            .order_by("-priority", "id")
            .first()
        )
        if case is None:
            return None
        _claim(case, moderator=moderator, ip_address=ip_address)
    return case


def case_claim_open(
    *, case_id: int, moderator, version: int, ip_address: str | None = None
) -> Case:
    """Claim one particular unclaimed case, as seen at `version`."""
    if not can_review(moderator):
        raise CaseActionError(_("Only moderators and supervisors claim cases."))
    with transaction.atomic():
        case = _claimed_case_for_update(case_id)
        if case.status != Case.Status.OPEN or case.version != version:
            raise CaseChanged()
        _claim(case, moderator=moderator, ip_address=ip_address)
    return case


def case_claim_renew(*, case_id: int, moderator) -> Case | None:
    """Extend the lease of a claim the moderator still holds (the case page's heartbeat).

    Only the expiry moves: the case's state and version stay as they are, so a renewal
    neither invalidates an open decision form nor counts as a change of state to audit.
    Returns None when the moderator no longer holds the case (it expired or was released).
    """
    expires = timezone.now() + claim_lease()
    updated = Case.objects.filter(
        pk=case_id, status=Case.Status.IN_REVIEW, claimed_by=moderator
    ).update(claim_expires_at=expires)
    if updated != 1:
        return None
    return Case.objects.get(pk=case_id)


def _claimed_case_for_update(case_id: int) -> Case:
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None:
        raise CaseActionError(_("There is no such case."))
    return case


def case_claim_release(
    *, case_id: int, supervisor, version: int | None = None, ip_address: str | None = None
) -> Case:
    """A supervisor returns a claimed case to the queue."""
    if not can_supervise(supervisor):
        raise CaseActionError(_("Only supervisors release someone's claim."))
    with transaction.atomic():
        case = _claimed_case_for_update(case_id)
        if case.status != Case.Status.IN_REVIEW or (
            version is not None and case.version != version
        ):
            raise CaseChanged()
        before = _case_state(case)
        case.status = Case.Status.OPEN
        case.claimed_by = None
        case.claim_expires_at = None
        case.version += 1
        case.save(update_fields=["status", "claimed_by", "claim_expires_at", "version"])
        audit_record(
            actor=Actor.staff(supervisor),
            action="case.released",
            subject=case,
            data={"before": before, "after": _case_state(case)},
            ip_address=ip_address,
        )
    return case


def case_claim_reassign(
    *,
    case_id: int,
    supervisor,
    to_user,
    version: int | None = None,
    ip_address: str | None = None,
) -> Case:
    """A supervisor hands a case (claimed or open) to another reviewer, with a fresh lease."""
    if not can_supervise(supervisor):
        raise CaseActionError(_("Only supervisors reassign a claim."))
    if not can_review(to_user):
        raise CaseActionError(_("A case can only be assigned to a moderator or a supervisor."))
    with transaction.atomic():
        case = _claimed_case_for_update(case_id)
        if case.status not in (Case.Status.OPEN, Case.Status.IN_REVIEW) or (
            version is not None and case.version != version
        ):
            raise CaseChanged()
        before = _case_state(case)
        case.status = Case.Status.IN_REVIEW
        case.claimed_by = to_user
        case.claim_expires_at = timezone.now() + claim_lease()
        case.version += 1
        case.save(update_fields=["status", "claimed_by", "claim_expires_at", "version"])
        audit_record(
            actor=Actor.staff(supervisor),
            action="case.reassigned",
            subject=case,
            data={"before": before, "after": _case_state(case), "to": to_user.get_username()},
            ip_address=ip_address,
        )
    return case


def case_claims_expire(*, now=None, limit: int = 500) -> int:
    """Return cases whose lease ran out to the queue; one audit event each. Returns how many.

    Rows someone is deciding on right now are locked and skipped: the decision wins, and the
    next sweep sees the case closed.
    """
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Case.Status.IN_REVIEW, claim_expires_at__lt=now)
            .order_by("claim_expires_at")[:limit]
        )
        for case in cases:
            before = _case_state(case)
            case.status = Case.Status.OPEN
            case.claimed_by = None
            case.claim_expires_at = None
            case.version += 1
            case.save(update_fields=["status", "claimed_by", "claim_expires_at", "version"])
            audit_record(
                actor=Actor.system("claim-expiry"),
                action="case.claim_expired",
                subject=case,
                data={"before": before, "after": _case_state(case)},
            )
            expired += 1
    return expired


# --- Decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    outcome: str
    rationale: str
    category: str = ""
    legal_basis_id: int | None = None
    urgency: str = Urgency.NORMAL


NEXT_STATUS = {
    Decision.Outcome.DISMISS: Case.Status.DISMISSED,
    Decision.Outcome.PROPOSE_TAKEDOWN: Case.Status.PROPOSED,
    Decision.Outcome.ESCALATE: Case.Status.ESCALATED,
}


def _decidable_by(user) -> Q:
    """Which cases `user` may decide on: their own claim or an unclaimed open case; a
    supervisor also decides escalated cases (DESIGN.md "Lifecycles")."""
    mine = Q(status=Case.Status.IN_REVIEW, claimed_by=user)
    unclaimed = Q(status=Case.Status.OPEN, claimed_by__isnull=True)
    if can_supervise(user):
        return mine | unclaimed | Q(status=Case.Status.ESCALATED)
    return mine | unclaimed


def _refusal(*, case_id: int, version: int, user) -> CaseActionError:
    """Why a conditional update matched no row, in words a moderator can act on."""
    case = Case.objects.select_related("claimed_by").filter(pk=case_id).first()
    if case is None:
        return CaseActionError(_("There is no such case."))
    if case.version != version:
        return CaseChanged()
    if case.status == Case.Status.IN_REVIEW and case.claimed_by_id != user.pk:
        return CaseActionError(
            _("%(user)s holds this case; only they can decide it now.")
            % {"user": case.claimed_by.get_username()}
        )
    if case.status == Case.Status.ESCALATED:
        return CaseActionError(_("An escalated case is decided by a supervisor."))
    return CaseActionError(_("This case is no longer open for a decision."))


def _validate(data: DecisionInput, *, user) -> LegalBasis | None:
    if data.outcome not in NEXT_STATUS:
        raise CaseActionError(_("Unknown decision."))
    if not data.rationale.strip():
        raise CaseActionError(
            {
                Decision.Outcome.DISMISS: _("Give a reason for dismissing."),
                Decision.Outcome.ESCALATE: _("Say why you escalate the case."),
            }.get(data.outcome, _("Give a rationale for the takedown."))
        )
    if data.outcome != Decision.Outcome.PROPOSE_TAKEDOWN:
        return None
    if data.category not in Category.values:
        raise CaseActionError(_("Choose the category of the takedown."))
    if data.urgency not in Urgency.values:
        raise CaseActionError(_("Choose the urgency of the takedown."))
    basis = LegalBasis.objects.filter(pk=data.legal_basis_id, active=True).first()
    if basis is None:
        raise CaseActionError(_("Choose a legal basis from the list."))
    return basis


def case_decide(
    *,
    case_id: int,
    version: int,
    user,
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
    basis = _validate(data, user=user)
    new_status = NEXT_STATUS[data.outcome]
    now = timezone.now()
    try:
        with transaction.atomic():
            # Every change of status bumps the version, so the status read at version N is
            # the status the conditional update below replaces, if it wins.
            seen = Case.objects.filter(pk=case_id, version=version).values("status").first()
            candidates = Case.objects.filter(pk=case_id, version=version).filter(
                _decidable_by(user)
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
            decision = Decision.objects.create(
                case=case,
                moderator=user,
                outcome=data.outcome,
                category=data.category if basis else "",
                legal_basis=basis,
                urgency=data.urgency if basis else Urgency.NORMAL,
                rationale=data.rationale.strip(),
                case_version=version,
                batch_id=batch_id,
                created_at=now,
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
                },
                ip_address=ip_address,
            )
    except IntegrityError as error:  # the unique (case, case_version) backstop
        raise CaseChanged() from error
    return decision


@dataclass(frozen=True)
class BulkResult:
    batch_id: uuid.UUID
    dismissed: list[int]
    skipped: list[int]


def cases_dismiss_bulk(
    *,
    case_versions: dict[int, int],
    supervisor,
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


def case_note_add(*, case_id: int, author, body: str, ip_address: str | None = None) -> CaseNote:
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


def staff_preference_set(
    *, user, keep_evidence_blurred: bool, ip_address: str | None = None
) -> StaffPreference:
    with transaction.atomic():
        preference, _created = StaffPreference.objects.select_for_update().get_or_create(user=user)
        before = preference.keep_evidence_blurred
        if before == keep_evidence_blurred:
            return preference
        preference.keep_evidence_blurred = keep_evidence_blurred
        preference.save(update_fields=["keep_evidence_blurred"])
        audit_record(
            actor=Actor.staff(user),
            action="preference.changed",
            subject=preference,
            data={
                "before": {"keep_evidence_blurred": before},
                "after": {"keep_evidence_blurred": keep_evidence_blurred},
            },
            ip_address=ip_address,
        )
    return preference


# --- Priority refresh ---------------------------------------------------------------------


def case_priorities_refresh(*, batch: int = 2000) -> int:
    """Recompute the stored priority of queued cases whose age still adds points.

    The score is derived data (`moderation.priority.case_priority`), not a decision, so no
    audit event; only cases young enough for the age part to still grow are read, in id
    order, a batch per transaction. Returns how many scores changed.
    """
    from moderation.priority import AGE_POINTS_MAX, AGE_POINTS_PER_DAY, case_priority

    now = timezone.now()
    # Past this age the age part is capped: the score no longer moves (+1 day for rounding).
    growing = now - timedelta(days=AGE_POINTS_MAX / AGE_POINTS_PER_DAY + 1)
    changed, last_id = 0, 0
    fields = ["id", "category", "source_kinds", "reporter_count", "urgent", "opened_at", "priority"]
    while True:
        with transaction.atomic():
            cases = list(
                Case.objects.filter(
                    status__in=(Case.Status.OPEN, Case.Status.IN_REVIEW),
                    opened_at__gt=growing,
                    id__gt=last_id,
                )
                .order_by("id")
                .only(*fields)[:batch]
            )
            if not cases:
                return changed
            last_id = cases[-1].id
            stale = []
            for case in cases:
                score, _parts = case_priority(
                    category=case.category,
                    source_kinds={k for k in case.source_kinds.split(",") if k},
                    reporter_count=case.reporter_count,
                    urgent=case.urgent,
                    opened_at=case.opened_at,
                    now=now,
                )
                if abs(score - case.priority) >= 0.01:
                    case.priority = score
                    stale.append(case)
            Case.objects.bulk_update(stale, ["priority"], batch_size=500)
            changed += len(stale)
