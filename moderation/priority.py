"""How urgent a case is: the one place the queue's order comes from (DESIGN.md "Priority")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from accounts.categories import Category

# Points for the worst category reported on the case.
CATEGORY_SEVERITY = {
    Category.CHILD_SEXUAL_ABUSE: 60,
    Category.TERRORISM: 55,
    Category.PROSTITUTION: 35,
    Category.DRUGS: 32,
    Category.PORNOGRAPHY: 30,
    Category.FRAUD: 28,
    Category.ILLEGAL_FINANCE: 26,
    Category.GAMBLING: 24,
    Category.HATE_SPEECH: 22,
    Category.DISINFORMATION: 18,
    Category.OTHER: 10,
}
# Points for the weightiest kind of source among the reports.
SOURCE_WEIGHT = {"police": 20, "ministry": 18, "agency": 12, "public": 5}
REPORTER_POINTS = 8.0  # per doubling of distinct reporters
URGENT_POINTS = 25.0
AGE_POINTS_PER_DAY = 4.0
AGE_POINTS_MAX = 30.0


@dataclass(frozen=True)
class PriorityPart:
    label: str
    points: float


def case_priority(
    *,
    category: str,
    source_kinds: set[str],
    reporter_count: int,
    urgent: bool,
    opened_at: datetime,
    now: datetime,
) -> tuple[float, list[PriorityPart]]:
    """The case's score and the parts that make it up, largest first.

    Severity of the category dominates, so a CSAM report from the public outranks a fraud
    report from the police; source weight and the number of distinct reporters (log-scaled,
    so a flood of duplicates cannot swamp the queue) order cases within a category; an
    urgent flag adds a fixed jump; age adds points linearly up to a cap, so that old cases
    rise slowly and nothing starves.
    """
    parts = [
        PriorityPart(f"category: {category}", float(CATEGORY_SEVERITY.get(category, 10))),
        PriorityPart(
            "source: " + ", ".join(sorted(source_kinds)) if source_kinds else "source: none",
            float(max((SOURCE_WEIGHT.get(kind, 0) for kind in source_kinds), default=0)),
        ),
        PriorityPart(
            f"distinct reporters: {reporter_count}",
            round(REPORTER_POINTS * math.log2(1 + max(reporter_count, 0)), 2),
        ),
    ]
    if urgent:
        parts.append(PriorityPart("marked urgent", URGENT_POINTS))
    age_days = max((now - opened_at).total_seconds(), 0) / 86400
    parts.append(
        PriorityPart(
            f"waiting {age_days:.1f} days",
            round(min(age_days * AGE_POINTS_PER_DAY, AGE_POINTS_MAX), 2),
        )
    )
    parts.sort(key=lambda part: part.points, reverse=True)
    return round(sum(part.points for part in parts), 2), parts
