"""Cases: the reviewer queue, claims, decisions and priority (DESIGN.md "Lifecycles",
"Priority").

The public face, for other apps and areas: intake hands each report over through
`cases_open_for` and `cases_refresh` (in its own transaction), and the demo data scores
cases with `case_priority`; the metrics count cases by its bands (`PRIORITY_BANDS`); the
evidence page draws a picture as `evidence_settings_for` the viewer says (blur, grayscale); the
demo data decides a case with `case_decide` like a moderator; the picture hashing flags the
cases of accounts that come back after a takedown with `cases_mark_returning`.
Everything else stays inside the area.
"""

from moderation.cases.priority import PRIORITY_BANDS, case_priority, priority_band
from moderation.cases.services.decisions import DecisionInput, case_decide
from moderation.cases.services.handoff import CaseSeed, cases_open_for, cases_refresh
from moderation.cases.services.returning import cases_mark_returning
from moderation.cases.wellbeing import EvidenceSettings, evidence_settings_for

__all__ = [
    "PRIORITY_BANDS",
    "CaseSeed",
    "DecisionInput",
    "EvidenceSettings",
    "case_decide",
    "case_priority",
    "cases_mark_returning",
    "cases_open_for",
    "cases_refresh",
    "evidence_settings_for",
    "priority_band",
]
