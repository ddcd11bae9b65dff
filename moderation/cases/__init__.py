"""Cases: the reviewer queue, claims, decisions and priority (DESIGN.md "Lifecycles",
"Priority").

The public face, for other apps and areas: intake hands each report over through
`cases_open_for` and `cases_refresh` (in its own transaction), and the demo data scores
cases with `case_priority`. Everything else stays inside the area.
"""

from moderation.cases.priority import case_priority
from moderation.cases.services.handoff import CaseSeed, cases_open_for, cases_refresh

__all__ = ["CaseSeed", "case_priority", "cases_open_for", "cases_refresh"]
