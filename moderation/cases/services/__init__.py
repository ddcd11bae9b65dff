"""Writes on cases: claims, decisions, notes, the hand-off from intake and priority upkeep."""

from moderation.cases.services.batches import BatchProposal, cases_propose_batch
from moderation.cases.services.claims import (
    case_claim_leave,
    case_claim_next,
    case_claim_open,
    case_claim_reassign,
    case_claim_release,
    case_claim_renew,
    case_claims_expire,
    claim_lease,
)
from moderation.cases.services.decisions import (
    NEXT_STATUS,
    BulkResult,
    DecisionInput,
    case_decide,
    case_note_add,
    cases_dismiss_bulk,
    decision_undo_deadline,
    decision_withdraw,
    staff_preference_set,
)
from moderation.cases.services.errors import CaseActionError, CaseChanged
from moderation.cases.services.handoff import CaseRef, CaseSeed, cases_open_for, cases_refresh
from moderation.cases.services.priorities import case_priorities_refresh
from moderation.cases.services.returning import cases_mark_returning

__all__ = [
    "NEXT_STATUS",
    "BatchProposal",
    "BulkResult",
    "CaseActionError",
    "CaseChanged",
    "CaseRef",
    "CaseSeed",
    "DecisionInput",
    "case_claim_leave",
    "case_claim_next",
    "case_claim_open",
    "case_claim_reassign",
    "case_claim_release",
    "case_claim_renew",
    "case_claims_expire",
    "case_decide",
    "case_note_add",
    "case_priorities_refresh",
    "cases_dismiss_bulk",
    "cases_mark_returning",
    "cases_open_for",
    "cases_propose_batch",
    "cases_refresh",
    "claim_lease",
    "decision_undo_deadline",
    "decision_withdraw",
    "staff_preference_set",
]
