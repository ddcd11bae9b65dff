"""Two connections at once, against the real PostgreSQL, through a real HTTP server."""

from __future__ import annotations

import threading

import pytest
import requests
from django.core.cache import cache

from accounts.models import ChatAccount
from moderation.models import AuditEvent, Case
from reports.models import Report
from tests.support.auditlog import assert_every_event_sealed
from tests.support.intake import report_body

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls):
    """Run the calls in threads released by one barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def poster(base: str, token: str, body: dict):
    session = requests.Session()  # its own TCP connection, so its own server thread

    def call():
        return session.post(
            f"{base}/api/v1/reports/", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    return call


def test_the_same_external_reference_from_two_connections_makes_one_report(
    site_server, ministry_token
):
    _, token = ministry_token
    for round_ in range(5):
        body = report_body(f"RACE-{round_}", account={"identifier": f"race{round_}"})
        first, second = at_once(
            poster(str(site_server), token, body), poster(str(site_server), token, body)
        )
        assert sorted([first.status_code, second.status_code]) == [200, 201]
        assert first.json()["id"] == second.json()["id"]
        assert Report.objects.filter(external_reference=f"RACE-{round_}").count() == 1
    assert AuditEvent.objects.filter(action="report.received").count() == 5
    assert_every_event_sealed()


def test_two_reports_for_a_new_account_at_once_share_one_account_and_one_case(
    site_server, ministry_token, police_token
):
    _, ministry = ministry_token
    _, police = police_token
    for round_ in range(5):
        account = {"identifier": f"0813-0000-00{round_:02d}"}
        first, second = at_once(
            poster(str(site_server), ministry, report_body(f"M-{round_}", account=account)),
            poster(str(site_server), police, report_body(f"P-{round_}", account=account)),
        )
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["case"] == second.json()["case"]
        case = Case.objects.get(pk=first.json()["case"])
        assert (case.report_count, case.reporter_count) == (2, 2)
    assert ChatAccount.objects.count() == 5
    assert Case.objects.count() == 5


def test_it_limits_requests_per_token(client, ministry_token, police_token, settings):
    settings.INTAKE_API_RATE = "3/min"
    cache.clear()
    _, ministry = ministry_token
    _, police = police_token
    codes = [
        client.get("/api/v1/reports/1/", HTTP_AUTHORIZATION=f"Bearer {ministry}").status_code
        for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]
    # Another token has its own allowance.
    assert (
        client.get("/api/v1/reports/1/", HTTP_AUTHORIZATION=f"Bearer {police}").status_code == 404
    )


def batch_poster(base: str, token: str, reports: list[dict]):
    session = requests.Session()

    def call():
        return session.post(
            f"{base}/api/v1/reports/batch/",
            json={"reports": reports},
            headers={"Authorization": f"Bearer {token}"},
        )

    return call


def test_two_batches_naming_the_same_new_accounts_in_opposite_orders_both_land(
    site_server, ministry_token, police_token
):
    """Each batch inserts and locks its new accounts; in opposite orders they used to wait
    for each other until PostgreSQL broke the deadlock and one batch failed with a 500."""
    _, ministry = ministry_token
    _, police = police_token
    for round_ in range(3):
        accounts = [{"identifier": f"@shared_{round_}_{n:02d}"} for n in range(60)]
        forward = [report_body(f"F-{round_}-{n}", account=a) for n, a in enumerate(accounts)]
        backward = [
            report_body(f"B-{round_}-{n}", account=a) for n, a in enumerate(reversed(accounts))
        ]
        first, second = at_once(
            batch_poster(str(site_server), ministry, forward),
            batch_poster(str(site_server), police, backward),
        )
        assert (first.status_code, second.status_code) == (200, 200), second.text[:300]
        assert first.json()["created"] == second.json()["created"] == 60
    assert ChatAccount.objects.count() == 180
    assert Case.objects.count() == 180
    assert_every_event_sealed()
