"""The offer to undo a decision, shown to its author while the undo window is open: in a
banner on whatever page they go to next (kept in their session) and on the case page.
Whether the undo is still allowed is the service's to say (`decision_withdraw`); these only
decide whether to show the button."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from moderation.cases.services import NEXT_STATUS, decision_undo_deadline
from moderation.models import Case, Decision

SESSION_KEY = "decision_undo"


def offer_undo(request: HttpRequest, decision: Decision) -> None:
    request.session[SESSION_KEY] = {
        "decision": decision.pk,
        "case": decision.case_id,
        "outcome": decision.outcome,
        "until": decision_undo_deadline(decision).timestamp(),
    }


def note_following_case(request: HttpRequest, case_id: int) -> None:
    """The person went on to `case_id` (claimed for them) after the decision on offer: undoing
    the decision gives that claim back, so that they do not hold two cases."""
    offer = request.session.get(SESSION_KEY)
    if offer:
        request.session[SESSION_KEY] = {**offer, "following": case_id}


def withdraw_undo_offer(request: HttpRequest, decision_id: int) -> int | None:
    """Drop the offer; the case claimed after the decision, if any (`note_following_case`)."""
    offer = request.session.get(SESSION_KEY)
    if offer and offer.get("decision") == decision_id:
        del request.session[SESSION_KEY]
        return offer.get("following")
    return None


def undoable_decision(*, case: Case, decisions: Iterable[Decision], user: Any) -> Decision | None:
    """The user's own last decision on the case, if it may still be undone as far as the
    page can tell (its window is open and the case is as the decision left it)."""
    last = None
    for decision in decisions:
        if decision.withdrawn_at is None:
            last = decision
    if last is None or last.moderator_id != getattr(user, "pk", None):
        return None
    if case.status != NEXT_STATUS.get(last.outcome) or not last.status_before:
        return None
    if timezone.now() >= decision_undo_deadline(last):
        return None
    return last


def decision_undo_offer(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the open offer to undo the person's last decision, if any."""
    session = getattr(request, "session", None)
    offer = session.get(SESSION_KEY) if session is not None else None
    if not offer:
        return {}
    seconds_left = int(offer.get("until", 0) - timezone.now().timestamp())
    if seconds_left <= 0:
        return {}
    return {"decision_undo": {**offer, "seconds_left": seconds_left}}
