"""Takedown proposals for several accounts of a ring in one step (issue 17, "Acting on a ring").

A batch is nothing but single proposals sharing one new `batch_id`: each case gets its own
Decision through `case_decide`, in its own transaction, audited as a single proposal is (the
batch id is in the event's data), and each still needs its own approval by a second person.
A case that cannot be proposed — claimed by someone else, in a restricted category, already
decided, changed since the page was loaded, taken down before without a reason to do it
again — is refused on its own with the reason, and the others go ahead: the same pattern as
the supervisors' bulk dismissal (`cases_dismiss_bulk`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from moderation.access import RESTRICTED_MESSAGE, can_review, may_open_case
from moderation.cases.services.decisions import DecisionInput, _validate, case_decide
from moderation.cases.services.errors import CaseActionError
from moderation.models import Case, Decision

# The most cases one batch may propose: the ring card shows at most this many members.
BATCH_MAX_CASES = 50


@dataclass(frozen=True)
class BatchProposal:
    batch_id: uuid.UUID
    proposed: list[int] = field(default_factory=list)  # case ids, in the order proposed
    refused: list[tuple[int, str]] = field(default_factory=list)  # (case id, why)


def cases_propose_batch(
    *,
    case_versions: dict[int, int],
    user: User,
    data: DecisionInput,
    allowed_case_ids: set[int] | None = None,
    ip_address: str | None = None,
) -> BatchProposal:
    """Propose the same takedown (category, legal basis, urgency, rationale) on each case of
    `case_versions` (case id -> the version the moderator saw), one Decision per case, all
    with one new batch id. What concerns the whole batch (who asks, the form) is refused as a
    whole; what concerns one case is refused for that case only. `allowed_case_ids`, when
    given, is what the batch may touch (the ring's cases): anything else is refused."""
    if not can_review(user):
        raise CaseActionError(_("Only moderators and supervisors decide cases."))
    data = replace(data, outcome=Decision.Outcome.PROPOSE_TAKEDOWN)
    _validate(data)  # category, legal basis covering it, urgency, rationale: once, for all
    if not case_versions:
        raise CaseActionError(_("Select at least one case to propose a takedown on."))
    if len(case_versions) > BATCH_MAX_CASES:
        raise CaseActionError(
            _("Select at most %(n)d cases for one batch.") % {"n": BATCH_MAX_CASES}
        )
    categories = dict(Case.objects.filter(pk__in=list(case_versions)).values_list("pk", "category"))
    batch = BatchProposal(batch_id=uuid.uuid4())
    for case_id, version in sorted(case_versions.items()):
        why = _refused_up_front(case_id, categories, allowed_case_ids, user)
        if why:
            batch.refused.append((case_id, why))
            continue
        try:
            case_decide(
                case_id=case_id,
                version=version,
                user=user,
                data=data,
                batch_id=batch.batch_id,
                ip_address=ip_address,
            )
        except CaseActionError as error:
            batch.refused.append((case_id, str(error)))
        else:
            batch.proposed.append(case_id)
    return batch


def _refused_up_front(
    case_id: int, categories: dict[int, str], allowed: set[int] | None, user: User
) -> str:
    """Why a case is refused before trying it, in words (or "" to go ahead): one that does
    not exist, is not in the ring, or is in a category the person may not open (which the
    decision service would refuse too, but without saying why)."""
    if case_id not in categories:
        return _("There is no such case.")
    if allowed is not None and case_id not in allowed:
        return _("This case is not in the account's ring.")
    if not may_open_case(user, Case(category=categories[case_id])):
        return str(RESTRICTED_MESSAGE)
    return ""
