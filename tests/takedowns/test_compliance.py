"""Operator compliance has one definition (moderation/takedowns/selectors.py
`compliance_counts`): the takedowns page and the supervisors' dashboard show the same figure
for the same requests, before and after the dashboard's summary is refreshed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.dashboard.selectors import dashboard_figures
from moderation.dashboard.services import dashboard_refresh
from moderation.takedowns.selectors import takedown_compliance
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    PlatformFactory,
    TakedownRequestFactory,
)

pytestmark = pytest.mark.django_db


def request_on(platform, *, issued_hours_ago: float, status: str, resolved_after: float | None):
    """A request issued some hours ago with a 24-hour deadline, resolved some hours after it
    was issued (or not at all)."""
    issued = timezone.now() - timedelta(hours=issued_hours_ago)
    return TakedownRequestFactory(
        approval__decision__case=CaseFactory(account=ChatAccountFactory(platform=platform)),
        issued_at=issued,
        deadline=issued + timedelta(hours=24),
        status=status,
        resolved_at=issued + timedelta(hours=resolved_after) if resolved_after else None,
    )


@pytest.fixture
def michat_requests():
    michat = PlatformFactory(slug="michat", name="MiChat")
    request_on(michat, issued_hours_ago=50, status="taken_down", resolved_after=2)  # in time
    request_on(michat, issued_hours_ago=50, status="taken_down", resolved_after=30)  # late
    request_on(michat, issued_hours_ago=30, status="acknowledged", resolved_after=None)  # overdue
    request_on(michat, issued_hours_ago=2, status="pending", resolved_after=None)  # not judged yet
    request_on(michat, issued_hours_ago=3, status="refused", resolved_after=1)  # judged: not done
    request_on(michat, issued_hours_ago=40, status="not_found", resolved_after=5)  # judged
    request_on(michat, issued_hours_ago=20, status="cancelled", resolved_after=1)  # not counted
    return michat


def _takedowns_page_figure(client) -> tuple[str, str]:
    html = client.get("/takedowns/").content.decode()
    row = re.search(r'<tr data-platform="michat">.*?</tr>', html, re.S).group(0)
    share, done, due = re.search(r"([\d.]+) % <span class=\"muted\">\((\d+)/(\d+)\)", row).groups()
    return share, f"{done}/{due}"


def _dashboard_figure(client) -> tuple[str, str]:
    html = client.get("/supervision/").content.decode()
    cell = re.search(r'data-compliance="michat">(\d+/\d+) \(([\d.]+) %\)', html)
    return cell.group(2), cell.group(1)


def test_the_definition_counts_only_requests_that_can_be_judged(michat_requests):
    [michat] = [row for row in takedown_compliance() if row.slug == "michat"]
    # Six requests not cancelled; five judged (the pending one is inside its deadline); one
    # of them taken down by its deadline.
    assert (michat.requests, michat.due, michat.in_time) == (6, 5, 1)
    assert michat.share_in_time == 20.0


@pytest.mark.parametrize("refreshed", [False, True], ids=["live", "after-refresh"])
def test_the_takedowns_page_and_the_dashboard_show_the_same_compliance(
    michat_requests, client_for, supervisor, refreshed
):
    if refreshed:
        dashboard_refresh()
    client = client_for(supervisor)
    assert _takedowns_page_figure(client) == ("20.0", "1/5")
    assert _dashboard_figure(client) == ("20.0", "1/5")
    [page_row] = [row for row in takedown_compliance() if row.slug == "michat"]
    [dashboard_row] = dashboard_figures(days=30).sla
    for name in ("requests", "due", "in_time", "due_4h", "within_4h", "due_24h", "within_24h"):
        assert getattr(page_row, name) == getattr(dashboard_row, name), name
