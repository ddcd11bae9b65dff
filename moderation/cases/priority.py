"""How urgent a case is: the one place the queue's order comes from (DESIGN.md "Priority")."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category
from reports.models import SourceKind

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
else:
    StrOrPromise = str

# Points for the worst category reported on the case.
CATEGORY_SEVERITY: dict[str, int] = {
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
SOURCE_WEIGHT: dict[str, int] = {"police": 20, "ministry": 18, "agency": 12, "public": 5}
REPORTER_POINTS = 8.0  # per doubling of distinct reporters
# Distinct members of the public counted as reporters of one case, at most (each organisation
# counts as one): a crowd, or one person with many e-mail addresses, cannot outvote the police.
PUBLIC_REPORTERS_MAX = 3
URGENT_POINTS = 25.0
# The account matches an account already taken down (issue 17, moderation.rings): the same
# operator back under a new name, which a moderator should see before the operator spreads.
RETURNING_POINTS = 20.0
AGE_POINTS_PER_DAY = 4.0
AGE_POINTS_MAX = 30.0

# Priority bands, for operators' metrics and alerts (README "Operating Saring"): the lowest
# score of each, highest first. A CSAM or terrorism report from the police lands in
# "critical", one from the public in "high" (or "critical" when marked urgent); fraud from
# the police is "medium"; gambling from the public is "low".
PRIORITY_BANDS: tuple[tuple[str, float], ...] = (
    ("critical", 80.0),
    ("high", 60.0),
    ("medium", 40.0),
    ("low", float("-inf")),
)


@dataclass(frozen=True)
class PriorityPart:
    label: StrOrPromise
    points: float


# A number written as the page's language writes it ("2.5" / "2,5"), when the label is read.
_number = lazy(number_format, str)


def _listed(labels: Iterable[StrOrPromise]) -> StrOrPromise:
    return format_lazy("{}" + ", {}" * (len(items := list(labels)) - 1), *items)


def case_priority(
    *,
    category: str,
    source_kinds: set[str],
    reporter_count: int,
    urgent: bool,
    opened_at: datetime,
    now: datetime,
    returning: bool = False,
) -> tuple[float, list[PriorityPart]]:
    """The case's score and the parts that make it up, largest first.

    Severity of the category dominates, so a CSAM report from the public outranks a fraud
    report from the police; source weight and the number of distinct reporters (log-scaled,
    so a flood of duplicates cannot swamp the queue) order cases within a category; an
    urgent flag adds a fixed jump, and so does an account returning after a takedown (its
    number, picture or profile address matches an account already taken down); age adds
    points linearly up to a cap, so that old cases rise slowly and nothing starves.
    """
    # The labels are lazy: they are read in the language of the page that shows them.
    categories, sources = dict(Category.choices), dict(SourceKind.choices)
    parts = [
        PriorityPart(
            format_lazy(_("Category: {category}"), category=categories.get(category, category)),
            float(CATEGORY_SEVERITY.get(category, 10)),
        ),
        PriorityPart(
            format_lazy(
                _("Source: {sources}"),
                sources=_listed(sources.get(kind, kind) for kind in sorted(source_kinds)),
            )
            if source_kinds
            else _("Source: none"),
            float(max((SOURCE_WEIGHT.get(kind, 0) for kind in source_kinds), default=0)),
        ),
        PriorityPart(
            format_lazy(_("Distinct reporters: {count}"), count=reporter_count),
            round(REPORTER_POINTS * math.log2(1 + max(reporter_count, 0)), 2),
        ),
    ]
    if urgent:
        parts.append(PriorityPart(_("Marked urgent"), URGENT_POINTS))
    if returning:
        parts.append(
            PriorityPart(_("Returning: matches an account already taken down"), RETURNING_POINTS)
        )
    age_days = max((now - opened_at).total_seconds(), 0) / 86400
    parts.append(
        PriorityPart(
            format_lazy(_("Waiting {days} days"), days=_number(age_days, 1)),
            round(min(age_days * AGE_POINTS_PER_DAY, AGE_POINTS_MAX), 2),
        )
    )
    parts.sort(key=lambda part: part.points, reverse=True)
    return round(sum(part.points for part in parts), 2), parts


def case_score(case: Any, *, now: datetime) -> tuple[float, list[PriorityPart]]:
    """`case_priority` of a case as stored (its denormalised category, sources, reporters,
    urgency, returning flag and opening time): what the queue sorts by and what the case
    page explains."""
    return case_priority(
        category=case.category,
        source_kinds={kind for kind in case.source_kinds.split(",") if kind},
        reporter_count=case.reporter_count,
        urgent=case.urgent,
        opened_at=case.opened_at,
        now=now,
        returning=case.returning_from_id is not None,
    )


def priority_band(score: float) -> str:
    """The band (PRIORITY_BANDS) a score falls in."""
    return next(name for name, lowest in PRIORITY_BANDS if score >= lowest)


def worst_category(categories: Iterable[str]) -> str:
    """The most severe of the categories reported on a case: the one the case is filed under."""
    return max(categories, key=lambda c: (CATEGORY_SEVERITY.get(c, 0), c))


def still_ageing_since(now: datetime) -> datetime:
    """Cases opened after this moment still gain age points; older ones have the cap (plus a
    day, for rounding), so their stored score no longer moves."""
    return now - timedelta(days=AGE_POINTS_MAX / AGE_POINTS_PER_DAY + 1)
