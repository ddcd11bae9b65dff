"""A supervisor opens the dashboard in English and in Bahasa Indonesia (screenshots of both
are saved under test-artifacts/ for people to look at)."""

from __future__ import annotations

import io
import random
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from config.roles import Role
from moderation.models import Case
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import DecisionFactory, TakedownRequestFactory, role_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history() -> None:
    """The demo's reports, plus decisions and takedowns spread over the last weeks."""
    for role in Role:  # what the migrations made, gone with an earlier test's flush
        role_group(role)
    call_command("seed_demo", reports=240, stdout=io.StringIO())
    rng = random.Random(8)
    moderators = list(User.objects.filter(groups__staff_role__key=Role.MODERATOR.value))
    assert moderators, "the demo's moderators have no role"
    now = timezone.now()
    for index, case in enumerate(Case.objects.order_by("opened_at")[:70]):
        decided = min(case.opened_at + timedelta(hours=rng.lognormvariate(1.5, 0.8)), now)
        if index % 3:
            DecisionFactory(
                case=case, moderator=rng.choice(moderators), created_at=decided, outcome="dismiss"
            )
            continue
        issued = min(decided + timedelta(hours=1), now)
        hours = rng.choice([1, 2, 3, 6, 10, 20, 30, None])
        done = hours is not None and issued + timedelta(hours=hours) < now
        TakedownRequestFactory(
            approval__decision__case=case,
            approval__decision__moderator=rng.choice(moderators),
            approval__decision__created_at=decided,
            approval__supervisor=User.objects.get(username="supervisor2"),
            issued_at=issued,
            status="taken_down" if done else rng.choice(["sent", "acknowledged", "pending"]),
            resolved_at=issued + timedelta(hours=hours) if done else None,
        )


def test_a_supervisor_reads_the_dashboard_in_english_and_indonesian(page, site_server):
    _history()
    sign_in(page, site_server.url, "supervisor", password="saring-demo-2026")
    page.goto(site_server.url + "/supervision/")
    assert page.get_by_role("heading", name="Supervision", exact=True).is_visible()
    assert page.locator("svg.chart").count() == 4
    assert page.get_by_role("link", name="Download CSV").count() == 6  # objections too
    page.set_viewport_size({"width": 1280, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)

    page.select_option("#language-select", "id")
    page.wait_for_selector("html[lang=id]")
    assert re.search(r"/supervision/$", page.url)
    assert page.get_by_role("heading", name="Supervisi", exact=True).is_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-id.png"), full_page=True)

    page.locator('.segmented a[href="?days=90"]').click()
    page.wait_for_url(re.compile(r"days=90"))
    assert page.locator("svg.chart").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dashboard-id-90.png"), full_page=True)


def test_a_moderator_finds_an_account_from_the_header_and_reads_its_story(page, site_server):
    _history()
    account = (
        Case.objects.filter(takedown_requests__isnull=False, account__identifier_kind="phone")
        .select_related("account")
        .first()
        .account
    )
    local = "0" + account.identifier.removeprefix("+62")
    typed = f"{local[:4]}-{local[4:8]}-{local[8:]}"  # 0812-3456-7890, as people write it
    sign_in(page, site_server.url, "moderator", password="saring-demo-2026")
    page.fill("#header-search", typed)
    page.press("#header-search", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=True)
    page.get_by_role("link", name=account.identifier).first.click()
    page.wait_for_url(re.compile(rf"/accounts/{account.pk}/$"))
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert page.locator(".timeline .tl-decision").count() >= 1
    # Takedown delivery is for supervisors and auditors: not in a moderator's timeline.
    assert page.locator(".timeline .tl-request, .timeline .tl-delivery").count() == 0
    page.screenshot(path=str(ARTIFACTS / "account-page.png"), full_page=True)
