"""Accounts that come back after a takedown (issue 17): when a picture is hashed and linked,
its account and every account it linked to may now match an account already taken down.
Intake flags the arriving accounts itself (handoff.cases_flag_returning, before it scores
them); this is the entry point for the picture hashing, which runs later, in a worker."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from moderation.audit import Actor
from moderation.cases.services.handoff import RETURNING_ACTOR, cases_flag_returning, cases_refresh


def cases_mark_returning(
    *, account_ids: Iterable[int], actor: Actor = RETURNING_ACTOR
) -> list[int]:
    """For each of these accounts with an open case not yet flagged, flag the case when the
    account directly matches an account already taken down (same number, a linked picture or
    the same profile address: moderation.rings.accounts_returning), audited `case.returning`,
    and recompute those cases' priority, in one transaction (the caller's, when there is one).
    Returns the ids of the cases flagged now."""
    with transaction.atomic():
        flagged = cases_flag_returning(account_ids=account_ids, actor=actor)
        cases_refresh(case_ids=flagged)
    return flagged
