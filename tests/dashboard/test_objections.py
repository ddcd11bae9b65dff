"""The dashboard's objection figures (issue 18) on objections planted through the real
services: received, awaiting and overdue, decided by the deadline, the granted share by
category and by proposing moderator, restore requests; the page, the CSV, and the query count
that keeps them fast however many objections there are."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from accounts import signing
from config.clock import WIB, wib_today
from config.roles import Role
from moderation.dashboard.selectors import dashboard_figures
from moderation.dashboard.services import dashboard_refresh
from moderation.models import Objection, RestoreRequest, TakedownRequest
from moderation.objections import objection_decide, objection_figures
from moderation.takedowns import services as takedowns
from tests.support.factories import UserFactory
from tests.support.objections import objected
from tests.support.takedowns import platform_for, proposal

pytestmark = pytest.mark.django_db

FORTY_DAYS_AGO = timezone.now() - timedelta(days=40)


@pytest.fixture
def decider(db):
    """The fresh pair of eyes: a supervisor who neither proposed nor approved anything here."""
    return UserFactory(username="supervisor2", roles=[Role.SUPERVISOR])


def _objection(platform, proposer, approver, category: str) -> Objection:
    """An objection, received, to a takedown `proposer` proposed and `approver` approved."""
    decision = proposal(moderator=proposer, platform=platform, category=category)
    request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=approver)
    TakedownRequest.objects.filter(pk=request.pk).update(status="taken_down")
    request.refresh_from_db()
    return objected(request, statement=f"Objection to {request.pk}")


def _decide(item: Objection, decider, outcome: str) -> Objection:
    return objection_decide(
        objection_id=item.pk, supervisor=decider, outcome=outcome, reason="Checked again."
    )


@pytest.fixture
def planted(moderator, moderator2, supervisor, decider):
    """Objections with known outcomes (30-day window unless said otherwise):

    moderator, prostitution: 3 granted, 2 upheld (one of them after its deadline), 1 awaiting;
    and one granted that was received 40 days ago, late (in the 90-day window only).
    moderator2, gambling: 1 granted, 1 upheld, 1 awaiting past its deadline.
    Of the 5 restore requests, one is confirmed restored by the operator, one failed."""
    platform = platform_for()

    def objection(proposer, category):
        return _objection(platform, proposer, supervisor, category)

    def decide(item, outcome):
        return _decide(item, decider, outcome)

    for outcome in ("granted", "granted", "granted", "upheld"):
        decide(objection(moderator, "prostitution"), outcome)
    late = objection(moderator, "prostitution")
    Objection.objects.filter(pk=late.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    decide(late, "upheld")
    objection(moderator, "prostitution")  # awaiting, in time
    old = objection(moderator, "prostitution")
    Objection.objects.filter(pk=old.pk).update(
        received_at=FORTY_DAYS_AGO, deadline=FORTY_DAYS_AGO + timedelta(days=14)
    )
    decide(old, "granted")

    decide(objection(moderator2, "gambling"), "granted")
    decide(objection(moderator2, "gambling"), "upheld")
    overdue = objection(moderator2, "gambling")
    Objection.objects.filter(pk=overdue.pk).update(deadline=timezone.now() - timedelta(hours=1))

    restores = list(RestoreRequest.objects.order_by("issued_at"))
    body = json.dumps(
        {"request_id": str(restores[0].pk), "status": "restored", "reason": ""}
    ).encode()
    result = takedowns.takedown_callback(
        platform_slug=platform.slug,
        headers=signing.signed_headers(platform.callback_secret, body),
        body=body,
    )
    assert result.http_status == 200, result.body
    RestoreRequest.objects.filter(pk=restores[1].pk).update(status="failed")
    return platform


def since(days: int) -> datetime:
    return datetime.combine(wib_today() - timedelta(days=days - 1), datetime.min.time(), tzinfo=WIB)


def test_it_counts_objections_received_awaiting_and_overdue(planted):
    figures = objection_figures(since=since(30), now=timezone.now())
    assert figures.received == 9
    assert figures.awaiting == 2  # whenever received
    assert figures.overdue == 1
    assert objection_figures(since=since(90), now=timezone.now()).received == 10


def test_it_measures_decisions_made_by_the_deadline_as_a_share_of_decided(planted):
    figures = objection_figures(since=since(30), now=timezone.now())
    assert (figures.decided, figures.in_time, figures.late) == (7, 6, 1)
    assert figures.share_in_time == round(100 * 6 / 7, 1)
    wider = objection_figures(since=since(90), now=timezone.now())
    assert (wider.decided, wider.in_time) == (8, 6)  # the old one was decided late too


def test_it_gives_the_granted_share_by_category_with_too_few_decisions_left_unshared(planted):
    with translation.override("en"):  # the categories' labels are in the page's language
        figures = objection_figures(since=since(30), now=timezone.now())
    assert figures.granted == 4 and figures.share_granted == round(100 * 4 / 7, 1)
    rows = {row.key: (row.decided, row.granted, row.share) for row in figures.by_category}
    assert rows == {"prostitution": (5, 3, 60.0), "gambling": (2, 1, None)}
    assert figures.by_category[0].label == "Prostitution"
    wider = {
        row.key: row.share
        for row in objection_figures(since=since(90), now=timezone.now()).by_category
    }
    assert wider["prostitution"] == round(100 * 4 / 6, 1)


def test_it_gives_the_granted_share_by_proposing_moderator_listed_by_name(planted):
    figures = objection_figures(since=since(30), now=timezone.now())
    assert [(r.key, r.decided, r.granted, r.share) for r in figures.by_proposer] == [
        ("moderator", 5, 3, 60.0),
        ("moderator2", 2, 1, None),  # fewer than MIN_DECISIONS: counts only
    ]


def test_it_counts_restore_requests_in_flight_failed_and_restored_per_platform(planted):
    figures = objection_figures(since=since(30), now=timezone.now())
    assert (figures.restores_in_flight, figures.restores_failed, figures.restored) == (3, 1, 1)
    assert figures.restored_by_platform == {planted.pk: 1}


def test_its_query_count_does_not_grow_with_the_objections(
    planted, django_assert_num_queries, supervisor, decider
):
    """Grouped queries, never one per row: the same five queries (the period's objections
    and restorations, the proposers' names, awaiting objections and restore requests now)
    before and after more of every kind."""
    with django_assert_num_queries(5):
        objection_figures(since=since(30), now=timezone.now())
    newcomer = UserFactory(username="moderator3", roles=[Role.MODERATOR])
    for category, outcome in (("fraud", "granted"), ("drugs", "upheld"), ("fraud", "")):
        item = _objection(planted, newcomer, supervisor, category)
        if outcome:
            _decide(item, decider, outcome)
    with django_assert_num_queries(5):
        figures = objection_figures(since=since(30), now=timezone.now())
    assert figures.received == 12 and len(figures.by_proposer) == 3


def test_the_dashboard_takes_the_periods_counts_from_its_refresh_and_what_waits_live(
    planted, supervisor
):
    """The period's counts change as objections are decided, so the refresh keeps them (as
    it keeps the medians); what awaits a decision now is read live."""
    live = dashboard_figures(days=30).objections
    refresh = dashboard_refresh()
    kept = dashboard_figures(days=30).objections
    assert kept.as_of == refresh.refreshed_at
    assert (kept.received, kept.decided, kept.in_time, kept.granted, kept.restored) == (
        live.received,
        live.decided,
        live.in_time,
        live.granted,
        live.restored,
    )
    assert kept.by_category == live.by_category and kept.by_proposer == live.by_proposer
    assert kept.restored_by_platform == live.restored_by_platform
    _objection(planted, supervisor, UserFactory(roles=[Role.SUPERVISOR]), "fraud")
    later = dashboard_figures(days=30).objections
    assert later.received == 9  # counted at the next refresh
    assert later.awaiting == 3  # now
    dashboard_refresh()
    assert dashboard_figures(days=30).objections.received == 10


def test_the_dashboard_shows_the_objections_panel_and_restored_per_platform(
    planted, client_for, supervisor
):
    figures = dashboard_figures(days=30)
    assert figures.objections.received == 9
    assert figures.sla_rows == [(figures.sla[0], 1)]
    client = client_for(supervisor)
    page = client.get("/supervision/").content.decode()
    assert 'id="h-objections"' in page
    assert '<strong data-objections="received">9</strong>' in page
    assert '<strong data-objections="in-time">85.7 %</strong>' in page
    assert 'data-granted-share="prostitution">60.0 %' in page
    assert 'data-granted-share="moderator2"><span class="muted">too few' in page
    assert "not a public ranking" in page
    assert f'data-restored="{planted.slug}">1<' in page
    client.post("/i18n/setlang/", {"language": "id", "next": "/supervision/"})
    page_id = client.get("/supervision/").content.decode()
    assert 'lang="id"' in page_id
    assert 'data-granted-share="prostitution">60,0 %' in page_id


def test_the_objections_csv_holds_the_panels_shares(planted, client_for, supervisor):
    response = client_for(supervisor).get("/supervision/objections.csv?days=30")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["by", "key", "decided", "granted", "granted_share_percent"],
        ["category", "prostitution", "5", "3", "60.0"],
        ["category", "gambling", "2", "1", ""],
        ["proposer", "moderator", "5", "3", "60.0"],
        ["proposer", "moderator2", "2", "1", ""],
    ]
