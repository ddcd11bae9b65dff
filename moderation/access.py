"""Who may see and do what in moderation (DESIGN.md "People"). Views and services both ask
here, so a page never offers what its service would refuse."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.functions import Now
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.categories import RESTRICTED_CATEGORIES
from config.roles import Role, has_role, role_required
from moderation.models import Case
from reports.access import (
    can_see_content,
    can_see_reporter_contact,
    can_see_restricted,
    mask_email,
    mask_name,
    mask_phone,
)

REVIEWERS = (Role.MODERATOR, Role.SUPERVISOR)
READERS = (Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR)
# Takedown requests and their delivery (status, operator answers, errors): supervisors, who
# act on them, and auditors. Moderators propose; what the operator said is not theirs to read.
DELIVERY_READERS = (Role.SUPERVISOR, Role.AUDITOR)
# Objections (issue 18): supervisors decide them, auditors read them; like deliveries, what an
# account owner and the operator said after a takedown is not the moderators' to read.
OBJECTION_READERS = DELIVERY_READERS

__all__ = [
    "DELIVERY_READERS",
    "OBJECTION_READERS",
    "READERS",
    "RESTRICTED_MESSAGE",
    "REVIEWERS",
    "can_audit",
    "can_read_deliveries",
    "can_review",
    "can_see_content",
    "can_supervise",
    "case_content_required",
    "decidable_cases",
    "may_decide",
    "may_open_case",
    "objection_contact_for",
    "role_required",
    "visible_cases",
]


def can_review(user: Any) -> bool:
    return has_role(user, *REVIEWERS)


def can_supervise(user: Any) -> bool:
    return has_role(user, Role.SUPERVISOR)


def can_audit(user: Any) -> bool:
    return has_role(user, Role.AUDITOR)


def can_read_deliveries(user: Any) -> bool:
    return has_role(user, *DELIVERY_READERS)


def objection_contact_for(user: Any, objection: Any) -> dict[str, Any]:
    """An objecting owner's contact details as `user` may see them: in full for supervisors,
    who may have to reach the owner; masked for everyone else (auditors), exactly as a public
    reporter's contact details are (`reports.access.reporter_contact_for`)."""
    if can_see_reporter_contact(user):
        return {
            "name": objection.contact_name,
            "email": objection.contact_email,
            "phone": objection.contact_phone,
            "masked": False,
        }
    return {
        "name": mask_name(objection.contact_name),
        "email": mask_email(objection.contact_email),
        "phone": mask_phone(objection.contact_phone),
        "masked": True,
    }


# --- Restricted categories (issue 16) --------------------------------------------------------
# Whose content a person may open is `reports.access.can_see_content` (by category); here it
# is applied to cases: one case, a filter, and the gate of every page about one case.


def may_open_case(user: Any, case: Case) -> bool:
    return can_see_content(user, case.category)


def visible_cases(user: Any) -> Q:
    """`may_open_case` as a filter on Case: what the person may claim or be handed."""
    if can_see_restricted(user):
        return Q()
    return ~Q(category__in=RESTRICTED_CATEGORIES)


View = Callable[..., HttpResponse]
RESTRICTED_MESSAGE = _(
    "This case is in a restricted category (child sexual abuse material or terrorism): only "
    "people in the Specialist role may open it or its evidence."
)


def case_content_required(view: View) -> View:
    """For views of one case (`case_id`), after `role_required`: a person who may not open
    the case's category gets 403 (a translated page saying so), whatever they ask of it."""

    @wraps(view)
    def wrapped(request: HttpRequest, case_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        category = Case.objects.filter(pk=case_id).values_list("category", flat=True).first()
        if category is not None and not can_see_content(request.user, category):
            raise PermissionDenied(RESTRICTED_MESSAGE)
        return view(request, case_id, *args, **kwargs)

    return wrapped


# --- Who may decide a case ------------------------------------------------------------------
# The rule, written once as data: (status, who must hold the claim). The page asks it of one
# case in Python (`may_decide`), the service as a filter in its conditional UPDATE
# (`decidable_cases`), so the two can never disagree.
_SELF, _NOBODY, _ANYONE = "self", "nobody", "anyone"


def _decidable(user: Any) -> tuple[tuple[str, str], ...]:
    if not can_review(user):
        return ()
    rules = [(Case.Status.IN_REVIEW, _SELF), (Case.Status.OPEN, _NOBODY)]
    if can_supervise(user):  # escalated cases go to a supervisor (DESIGN.md "Lifecycles")
        rules.append((Case.Status.ESCALATED, _ANYONE))
    return tuple(rules)


def claim_live(case: Case) -> bool:
    """Whether the case's claim still holds: in review, and its lease has not run out (the
    sweeper returns a lapsed one to the queue within a minute; until then nobody holds it)."""
    return case.status == Case.Status.IN_REVIEW and (
        case.claim_expires_at is None or case.claim_expires_at > timezone.now()
    )


def may_decide(user: Any, case: Case) -> bool:
    """Whether `user` may record a decision on `case` as it stands: their own claim while its
    lease runs (a lapsed one goes back to the queue), an unclaimed open case, or (supervisors)
    an escalated case — and only in a category they may open."""
    if not may_open_case(user, case):
        return False
    for status, holder in _decidable(user):
        if case.status != status:
            continue
        if holder == _ANYONE:
            return True
        if holder == _SELF and case.claimed_by_id == user.pk and claim_live(case):
            return True
        if holder == _NOBODY and case.claimed_by_id is None:
            return True
    return False


def decidable_cases(user: Any) -> Q:
    """The same rule as `may_decide`, as a filter on Case."""
    q = Q(pk__in=[])
    visible = visible_cases(user)
    for status, holder in _decidable(user):
        if holder == _SELF:
            q |= Q(status=status, claimed_by=user) & (
                Q(claim_expires_at__isnull=True) | Q(claim_expires_at__gt=Now())
            )
        elif holder == _NOBODY:
            q |= Q(status=status, claimed_by__isnull=True)
        else:
            q |= Q(status=status)
    return q & visible
