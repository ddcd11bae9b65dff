"""Claims on cases (issue 4): who holds a case, for how long, and how it goes back.

Every claim change goes through `_claim_move`, the one transition: a case is given to a
reviewer for a fresh lease (in review), or returned to the queue (open); the version moves
on, `updated_at` is saved with it, and the audit event is written in the same transaction.
Two people can race on a case at every step, so rows are locked first: `SKIP LOCKED` when
claiming the next case (each caller gets a different row), a plain row lock otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from moderation.access import (
    RESTRICTED_MESSAGE,
    can_review,
    can_supervise,
    may_open_case,
    visible_cases,
)
from moderation.audit import Actor, audit_record
from moderation.cases.services.errors import CaseActionError, CaseChanged
from moderation.models import Case


def claim_lease() -> timedelta:
    return timedelta(minutes=settings.SARING_CLAIM_LEASE_MINUTES)


def _case_state(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "claimed_by": case.claimed_by_id,
        "claim_expires_at": case.claim_expires_at,
        "version": case.version,
    }


def _claim_move(
    case: Case,
    *,
    to: User | None,
    actor: Actor,
    action: str,
    ip_address: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Give the locked case to `to` for one lease, or with `to=None` return it to the queue."""
    before = _case_state(case)
    if to is None:
        case.status = Case.Status.OPEN
        case.claimed_by = None
        case.claim_expires_at = None
    else:
        case.status = Case.Status.IN_REVIEW
        case.claimed_by = to
        case.claim_expires_at = timezone.now() + claim_lease()
    case.version += 1
    case.save(update_fields=["status", "claimed_by", "claim_expires_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        subject=case,
        data={"before": before, "after": _case_state(case), **(extra or {})},
        ip_address=ip_address,
    )


def _case_for_update(case_id: int) -> Case:
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None:
        raise CaseActionError(_("There is no such case."))
    return case


def case_claim_next(*, moderator: User, ip_address: str | None = None) -> Case | None:
    """Claim the most important unclaimed open case for `moderator`, or None if none is left.

    `FOR UPDATE SKIP LOCKED` makes concurrent callers walk past each other's rows instead of
    waiting on them, so twenty moderators pressing "next" at once get twenty different cases.
    """
    if not can_review(moderator):
        raise CaseActionError(_("Only moderators and supervisors claim cases."))
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(visible_cases(moderator), status=Case.Status.OPEN)
            .order_by("-priority", "id")
            .first()
        )
        if case is None:
            return None
        _claim_move(
            case,
            to=moderator,
            actor=Actor.staff(moderator),
            action="case.claimed",
            ip_address=ip_address,
        )
    return case


def case_claim_open(
    *, case_id: int, moderator: User, version: int, ip_address: str | None = None
) -> Case:
    """Claim one particular unclaimed case, as seen at `version`."""
    if not can_review(moderator):
        raise CaseActionError(_("Only moderators and supervisors claim cases."))
    with transaction.atomic():
        case = _case_for_update(case_id)
        if not may_open_case(moderator, case):
            raise CaseActionError(RESTRICTED_MESSAGE)
        if case.status != Case.Status.OPEN or case.version != version:
            raise CaseChanged()
        _claim_move(
            case,
            to=moderator,
            actor=Actor.staff(moderator),
            action="case.claimed",
            ip_address=ip_address,
        )
    return case


def case_claim_renew(*, case_id: int, moderator: User) -> Case | None:
    """Extend the lease of a claim the moderator still holds (the case page's heartbeat).

    Only the expiry moves: the case's state and version stay as they are, so a renewal
    neither invalidates an open decision form nor counts as a change of state to audit.
    Returns None when the moderator no longer holds the case (it was released, or its lease
    ran out, even if the sweeper has not yet returned it to the queue: a lapsed claim is
    never revived).
    """
    now = timezone.now()
    updated = Case.objects.filter(
        pk=case_id, status=Case.Status.IN_REVIEW, claimed_by=moderator, claim_expires_at__gt=now
    ).update(claim_expires_at=now + claim_lease())
    if updated != 1:
        return None
    return Case.objects.get(pk=case_id)


def case_claim_release(
    *,
    case_id: int,
    supervisor: User,
    version: int | None = None,
    ip_address: str | None = None,
) -> Case:
    """A supervisor returns a claimed case to the queue."""
    if not can_supervise(supervisor):
        raise CaseActionError(_("Only supervisors release someone's claim."))
    with transaction.atomic():
        case = _case_for_update(case_id)
        if case.status != Case.Status.IN_REVIEW or (
            version is not None and case.version != version
        ):
            raise CaseChanged()
        _claim_move(
            case,
            to=None,
            actor=Actor.staff(supervisor),
            action="case.released",
            ip_address=ip_address,
        )
    return case


def case_claim_leave(
    *, case_id: int, moderator: User, ip_address: str | None = None, reason: str = "left_page"
) -> bool:
    """The holder left the case page (closed the tab, went elsewhere): their claim goes back
    to the queue at once instead of when its lease runs out, so an urgent case is not held
    by someone who has gone. Only one's own claim; False when the moderator does not hold
    the case (anyone else's claim, a case already decided, released or reassigned). Also
    used when an undo takes the person back to the case they had decided (`reason` "undo"):
    the case claimed for them after it goes back to the queue."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .filter(pk=case_id, status=Case.Status.IN_REVIEW, claimed_by=moderator)
            .first()
        )
        if case is None:
            return False
        _claim_move(
            case,
            to=None,
            actor=Actor.staff(moderator),
            action="case.released",
            ip_address=ip_address,
            extra={"reason": reason},
        )
    return True


def case_claim_reassign(
    *,
    case_id: int,
    supervisor: User,
    to_user: User,
    version: int | None = None,
    ip_address: str | None = None,
) -> Case:
    """A supervisor hands a case (claimed or open) to another reviewer, with a fresh lease."""
    if not can_supervise(supervisor):
        raise CaseActionError(_("Only supervisors reassign a claim."))
    if not can_review(to_user):
        raise CaseActionError(_("A case can only be assigned to a moderator or a supervisor."))
    with transaction.atomic():
        case = _case_for_update(case_id)
        if not may_open_case(to_user, case):
            raise CaseActionError(
                _("%(user)s is not in the Specialist role this case's category needs.")
                % {"user": to_user.get_username()}
            )
        if case.status not in (Case.Status.OPEN, Case.Status.IN_REVIEW) or (
            version is not None and case.version != version
        ):
            raise CaseChanged()
        _claim_move(
            case,
            to=to_user,
            actor=Actor.staff(supervisor),
            action="case.reassigned",
            ip_address=ip_address,
            extra={"to": to_user.get_username()},
        )
    return case


def case_claims_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Return cases whose lease ran out to the queue; one audit event each. Returns how many.

    Rows someone is deciding on right now are locked and skipped: the decision wins, and the
    next sweep sees the case closed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Case.Status.IN_REVIEW, claim_expires_at__lt=now)
            .order_by("claim_expires_at")[:limit]
        )
        for case in cases:
            _claim_move(
                case, to=None, actor=Actor.system("claim-expiry"), action="case.claim_expired"
            )
    return len(cases)
