"""Decisions placed on known WIB days, for the decision log, its exports and its pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.factories import CaseFactory, ChatAccountFactory, DecisionFactory

# 2026-03-10 00:00 WIB is 2026-03-09 17:00 UTC.
WIB_DAY_START = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)

# The filter of the decision log tests: MiChat, prostitution, 10 and 11 March (WIB).
FILTERS = {
    "date_from": "2026-03-10",
    "date_to": "2026-03-11",
    "platform": "michat",
    "category": "prostitution",
}


def at(hours: float) -> datetime:
    """The moment `hours` after 10 March 2026 00:00 WIB."""
    return WIB_DAY_START + timedelta(hours=hours)


def decision_on(platform, *, category="prostitution", when, outcome="propose_takedown", **kw):
    """A decision on a new case of a new account on `platform`, made at `when`."""
    case = CaseFactory(account=ChatAccountFactory(platform=platform), category=category)
    return DecisionFactory(case=case, category=category, outcome=outcome, created_at=when, **kw)
