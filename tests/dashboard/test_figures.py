"""The supervisor dashboard's figures on known data, its CSVs and its page. Who may open it is
the role matrix's (tests/security/test_role_matrix.py)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from config.clock import WIB, wib_today
from moderation.dashboard.selectors import dashboard_figures, decision_count
from moderation.dashboard.services import dashboard_refresh
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    PlatformFactory,
    ReportFactory,
    SourceOrganisationFactory,
    TakedownRequestFactory,
)

pytestmark = pytest.mark.django_db

TODAY = wib_today()


def wib(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A moment on a WIB calendar day counted back from today."""
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour, minute), tzinfo=WIB)


def report(kind: str, at: datetime):
    if kind == "public":
        return ReportFactory(source_kind="public", organisation=None, received_at=at)
    org = SourceOrganisationFactory(slug=f"org-{kind}", kind=kind)
    return ReportFactory(source_kind=kind, organisation=org, received_at=at)


def takedown(
    platform,
    *,
    issued: datetime,
    hours: float | None,
    status: str = "taken_down",
    decided: datetime | None = None,
):
    case = CaseFactory(account=ChatAccountFactory(platform=platform), opened_at=issued)
    return TakedownRequestFactory(
        approval__decision__case=case,
        approval__decision__created_at=decided or issued,
        issued_at=issued,
        status=status,
        resolved_at=issued + timedelta(hours=hours) if hours is not None else None,
    )


@pytest.fixture
def known_reports():
    report("ministry", wib(3, 10))
    report("ministry", wib(3, 23, 30))
    report("police", wib(3, 9))
    # 00:30 WIB is 17:30 UTC the day before: it belongs to the later WIB day.
    report("public", wib(2, 0, 30))
    report("agency", wib(40, 12))  # in the 90-day window only
    report("ministry", wib(100, 12))  # in neither


@pytest.mark.parametrize("refreshed", [False, True])
def test_it_counts_reports_per_wib_day_by_source(known_reports, refreshed):
    if refreshed:
        dashboard_refresh()
    figures = dashboard_figures(days=30)
    day = {d: i for i, d in enumerate(figures.day_list)}
    d3, d2 = day[TODAY - timedelta(days=3)], day[TODAY - timedelta(days=2)]
    assert figures.reports["ministry"][d3] == 2
    assert figures.reports["police"][d3] == 1
    assert figures.reports["public"][d2] == 1
    assert figures.reports["public"][d3] == 0
    assert figures.report_totals == {"ministry": 2, "police": 1, "agency": 0, "public": 1}
    assert len(figures.day_list) == 30 and figures.day_list[-1] == TODAY
    assert dashboard_figures(days=90).report_totals == {
        "ministry": 2,
        "police": 1,
        "agency": 1,
        "public": 1,
    }


def test_it_adds_what_came_after_the_last_refresh(known_reports):
    dashboard_refresh(now=timezone.now() - timedelta(minutes=5))
    report("police", timezone.now() - timedelta(minutes=1))
    figures = dashboard_figures(days=30)
    assert figures.report_totals["police"] == 2
    assert figures.refreshed_at is not None


def test_it_takes_the_medians_from_report_to_decision_and_approval_to_takedown():
    opened = timezone.now() - timedelta(days=5)
    for hours in (1, 3, 10):
        case = CaseFactory(opened_at=opened)
        DecisionFactory(case=case, created_at=opened + timedelta(hours=hours), case_version=1)
    # A later decision on the first case does not count: the time to the first one does.
    first_case = CaseFactory(opened_at=opened)
    DecisionFactory(case=first_case, created_at=opened + timedelta(hours=2), case_version=1)
    DecisionFactory(case=first_case, created_at=opened + timedelta(hours=50), case_version=2)
    platform = PlatformFactory(slug="michat")
    issued = timezone.now() - timedelta(days=4)
    # Their proposals were decided outside the window, so they leave the first median alone.
    decided = wib(40, 10)
    for hours in (2, 5, 30, 1):
        takedown(platform, issued=issued, hours=hours, decided=decided)
    takedown(platform, issued=issued, hours=None, status="acknowledged", decided=decided)
    live = dashboard_figures(days=30).medians
    # first decisions after 1, 2, 3 and 10 hours: median (2 + 3) / 2 = 2.5 h
    assert live["decision_seconds"] == 2.5 * 3600
    assert live["decisions"] == 4
    # taken down after 1, 2, 5 and 30 hours: median (2 + 5) / 2 = 3.5 h
    assert live["takedown_seconds"] == 3.5 * 3600
    assert live["takedowns"] == 4
    dashboard_refresh()
    assert dashboard_figures(days=30).medians == live


@pytest.mark.parametrize("refreshed", [False, True])
def test_it_computes_sla_shares_per_platform(refreshed):
    a = PlatformFactory(slug="michat", name="MiChat")
    b = PlatformFactory(slug="wa", name="WhatsApp")
    issued = wib(6, 10)
    takedown(a, issued=issued, hours=2)  # within 4 h and 24 h
    takedown(a, issued=issued, hours=5)  # within 24 h
    takedown(a, issued=issued, hours=30)  # late
    takedown(a, issued=issued, hours=None, status="sent")  # not yet
    takedown(b, issued=issued, hours=1)
    takedown(b, issued=issued, hours=None, status="cancelled")  # not counted
    takedown(b, issued=wib(60, 10), hours=1)  # outside the 30-day window
    if refreshed:
        dashboard_refresh()
    rows = {row.slug: row for row in dashboard_figures(days=30).sla}
    assert rows["michat"].requests == 4
    assert rows["michat"].taken_down == 3
    assert rows["michat"].share_4h == 25.0
    assert rows["michat"].share_24h == 50.0
    assert rows["michat"].share_in_time == 50.0  # deadline: 24 h after issue
    assert (rows["wa"].requests, rows["wa"].share_4h, rows["wa"].share_24h) == (1, 100.0, 100.0)
    rows90 = {row.slug: row for row in dashboard_figures(days=90).sla}
    assert rows90["wa"].requests == 2


def test_it_counts_overdue_requests_now_per_platform():
    a = PlatformFactory(slug="michat", name="MiChat")
    b = PlatformFactory(slug="wa", name="WhatsApp")
    past = timezone.now() - timedelta(days=2)
    takedown(a, issued=past, hours=None, status="pending")
    takedown(a, issued=past, hours=None, status="failed")
    takedown(b, issued=past, hours=None, status="acknowledged")
    takedown(b, issued=past, hours=30, status="taken_down")  # confirmed: not overdue
    takedown(b, issued=past, hours=None, status="cancelled")
    takedown(a, issued=timezone.now(), hours=None, status="sent")  # deadline ahead
    figures = dashboard_figures(days=30)
    assert figures.overdue_total == 3
    assert [(r["platform"].slug, r["overdue"]) for r in figures.overdue_by_platform] == [
        ("michat", 2),
        ("wa", 1),
    ]
    assert len(figures.overdue_oldest) == 3


def test_it_counts_open_cases_by_category_and_age():
    now = timezone.now()
    CaseFactory(category="prostitution", opened_at=now - timedelta(hours=2))
    CaseFactory(category="prostitution", opened_at=now - timedelta(days=10), status="in_review")
    CaseFactory(category="gambling", opened_at=now - timedelta(days=2), status="proposed")
    CaseFactory(category="gambling", opened_at=now - timedelta(days=2), status="dismissed")
    rows = {row["category"]: row for row in dashboard_figures(days=30).open_cases}
    assert (rows["prostitution"]["lt1d"], rows["prostitution"]["gt7d"]) == (1, 1)
    assert rows["prostitution"]["total"] == 2
    assert (rows["gambling"]["d1_3"], rows["gambling"]["total"]) == (1, 1)
    assert rows["gambling"]["label"] == "Gambling"
    dashboard_refresh()
    CaseFactory(category="gambling", opened_at=now)  # after the refresh: shown at the next
    figures = dashboard_figures(days=30)
    assert {row["category"]: row for row in figures.open_cases} == rows
    assert figures.open_cases_as_of == figures.refreshed_at
    assert figures.open_by_status == {"proposed": 1, "escalated": 0}  # live


@pytest.fixture
def known_decisions(moderator, moderator2):
    for days_ago in (0, 1, 1, 5):
        DecisionFactory(moderator=moderator, created_at=wib(days_ago, 0, 5))
    for days_ago in (2, 45):
        DecisionFactory(moderator=moderator2, created_at=wib(days_ago, 11))
    return moderator, moderator2


@pytest.mark.parametrize("refreshed", [False, True])
def test_it_measures_throughput_per_person(known_decisions, refreshed):
    moderator, moderator2 = known_decisions
    if refreshed:
        dashboard_refresh()
    figures = dashboard_figures(days=30)
    rows = {row["moderator"].username: row for row in figures.throughput}
    assert rows["moderator"]["total"] == 4
    assert rows["moderator"]["average"] == round(4 / 30, 2)
    detailed = dashboard_figures(days=30, detailed=True).throughput
    per_day = {row["moderator"].username: row["per_day"] for row in detailed}
    assert per_day["moderator"][-1] == 1  # 00:05 WIB today
    assert per_day["moderator"][-2] == 2
    assert per_day["moderator"][-6] == 1
    assert sum(per_day["moderator"]) == 4
    assert rows["moderator2"]["total"] == 1
    assert figures.decisions_total == 5
    assert {r["moderator"].username: r["total"] for r in dashboard_figures(days=90).throughput} == {
        "moderator": 4,
        "moderator2": 2,
    }


@pytest.mark.parametrize("days", [30, 90])
def test_its_decision_counts_match_the_decision_log(known_decisions, days):
    """The decision-log export counts Decisions made in the period (by a person); the
    dashboard's throughput must come to the same numbers."""
    dashboard_refresh()
    DecisionFactory(moderator=known_decisions[0])  # after the refresh: counted live
    figures = dashboard_figures(days=days)
    since = datetime.combine(figures.start, time.min, tzinfo=WIB)
    assert figures.decisions_total == decision_count(since=since)
    for row in figures.throughput:
        assert row["total"] == decision_count(since=since, moderator=row["moderator"])


def _csv(client, chart: str, days: int = 30) -> list[list[str]]:
    response = client.get(f"/supervision/{chart}.csv?days={days}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_downloads_hold_the_charts_numbers(client_for, supervisor, known_reports):
    a = PlatformFactory(slug="michat", name="MiChat")
    for hours in (2, 5, 30, None):
        takedown(a, issued=wib(6, 10), hours=hours, status="taken_down" if hours else "sent")
    takedown(a, issued=timezone.now() - timedelta(days=3), hours=None, status="pending")
    DecisionFactory(moderator=supervisor, created_at=wib(3, 12))
    client = client_for(supervisor)

    reports = _csv(client, "reports")
    assert reports[0] == ["day", "ministry", "police", "agency", "public", "total"]
    by_day = {row[0]: row[1:] for row in reports[1:]}
    assert len(by_day) == 30
    assert by_day[(TODAY - timedelta(days=3)).isoformat()] == ["2", "1", "0", "0", "3"]
    assert by_day[(TODAY - timedelta(days=2)).isoformat()] == ["0", "0", "0", "1", "1"]
    assert len(_csv(client, "reports", days=90)) == 91

    sla = {row[0]: row for row in _csv(client, "sla")[1:]}
    # platform, issued, taken down, then judged / done / share for 4 h, 24 h and the deadline,
    # and restore requests of granted objections confirmed in the period (none here)
    assert sla["michat"][1:] == [
        *["5", "3", "5", "1", "20.0", "5", "2", "40.0", "5", "2", "40.0"],
        "0",
    ]

    assert _csv(client, "overdue")[1:] == [["michat", "2"]]

    throughput = {row[0]: row for row in _csv(client, "throughput")[1:]}
    assert throughput["supervisor"][1:3] == ["1", str(round(1 / 30, 2))]
    assert throughput["supervisor"][3 + 26] == "1"  # three days ago, the 27th of 30 days

    open_cases = {row[0]: row for row in _csv(client, "open-cases")[1:]}
    assert open_cases["prostitution"][-1] == str(
        sum(r["total"] for r in dashboard_figures(days=30).open_cases)
    )
    assert client.get("/supervision/nope.csv").status_code == 404


def test_the_dashboard_page_shows_the_figures_in_both_languages(
    client_for, supervisor, known_reports
):
    client = client_for(supervisor)
    page = client.get("/supervision/?days=90").content.decode()
    assert "Reports per day by source" in page
    assert 'aria-current="true">Last 90 days' in page
    assert "<svg" in page and "<desc" in page and "url(#chart-reports-p1)" in page
    assert "style=" not in page
    client.post("/i18n/setlang/", {"language": "id", "next": "/supervision/"})
    page_id = client.get("/supervision/?days=oops").content.decode()
    assert 'lang="id"' in page_id
    assert 'aria-current="true">' in page_id  # a bad period falls back to 30 days
