"""In a real browser: four eyes on a proposal, approval, delivery to a real operator, its
signed callback over HTTP, and the compliance table."""

from __future__ import annotations

import re

import pytest

from config.roles import Role
from moderation.models import TakedownRequest
from moderation.takedowns import services as takedowns
from tests.support.browser import sign_in
from tests.support.factories import UserFactory
from tests.support.takedowns import platform_for, proposal, simulator_for, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_approves_in_the_browser_and_the_operators_callback_takes_the_account_down(
    page, site_server, settings
):
    settings.SITE_URL = site_server.url  # where the operator calls back
    simulator = simulator_for("michat", callback_delay=0.2)
    try:
        platform = platform_for(simulator)
        moderator = UserFactory(username="dewi", roles=[Role.MODERATOR])
        supervisor = UserFactory(username="siti", roles=[Role.SUPERVISOR])
        decision = proposal(moderator=moderator, platform=platform)
        own = proposal(moderator=supervisor, platform=platform)

        sign_in(page, site_server.url, "siti")
        page.goto(site_server.url + "/approvals/")
        mine = page.locator(f"#proposal-{own.pk}")
        assert "This is your own proposal" in mine.inner_text()
        assert mine.get_by_role("button", name="Approve").count() == 0
        theirs = page.locator(f"#proposal-{decision.pk}")
        assert decision.rationale in theirs.inner_text()
        theirs.get_by_label("Comment").fill("Price list in the profile.")
        theirs.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        assert "Approved." in page.locator(".messages").inner_text()
        assert page.locator(f"#proposal-{decision.pk}").count() == 0
        assert page.locator(f"#proposal-{own.pk}").count() == 1

        request = TakedownRequest.objects.get(case=decision.case)
        # What the Celery worker runs for the queued message, run here.
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "acknowledged"
        assert list(simulator.received) == [str(request.pk)]
        wait_for(lambda: simulator.stats()["callbacks_sent"] == 1, timeout=20, what="callback")
        assert simulator.callback_results[0]["status"] == 200
        request.refresh_from_db()
        request.account.refresh_from_db()
        assert request.status == "taken_down"
        assert request.account.status == "taken_down"

        page.goto(site_server.url + "/takedowns/")
        row = page.locator("#compliance tr[data-platform=michat]")
        cells = row.locator("td").all_inner_texts()
        assert cells[1:3] == ["1", "1"]
        assert cells[3].startswith("100.0 %")
        assert page.locator(f"tr[data-request='{request.pk}']").inner_text().count("Taken down")
        page.locator(f"tr[data-request='{request.pk}'] a[href^='/takedowns/']").click()
        page.wait_for_url(re.compile(str(request.pk)))
        history = page.locator("#deliveries").inner_text()
        assert "acknowledged" in history and "201" in history
    finally:
        simulator.stop()
