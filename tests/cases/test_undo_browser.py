"""Undo of a decision in a real browser (issue 16): the offer appears where the moderator
lands after deciding, and a click within the window puts the case back."""

from __future__ import annotations

import re

import pytest

from config.roles import Role
from moderation.models import Case, Decision
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import CaseFactory, LegalBasisFactory, ReportFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_moderator_undoes_a_takedown_proposal_within_the_window(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    LegalBasisFactory()
    LegalBasisFactory(code="uu-5-2018", title="UU 5/2018 Terorisme", categories=["terrorism"])
    case = CaseFactory(priority=80, category="prostitution")
    ReportFactory(case=case, description="Open BO Jaksel, tarif di bio")

    sign_in(page, site_server.url, "dewi")
    page.goto(f"{site_server.url}/cases/{case.pk}/")
    page.get_by_role("button", name="Claim this case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.locator("body").press("t")
    # The basis that covers prostitution is suggested; the terrorism article is not.
    suggested = page.locator('#takedown-basis optgroup[data-basis-group="suggested"] option')
    assert suggested.all_inner_texts() == ["UU ITE Pasal 27 ayat (1)"]
    page.select_option("#takedown-basis", label="UU ITE Pasal 27 ayat (1)")
    page.fill("#takedown-rationale", "Profile offers paid sex with a price list.")
    page.locator("#decide-takedown").get_by_label("Back to the queue").check()
    page.get_by_role("button", name="Propose the takedown").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    assert f"Takedown proposed on case #{case.pk}" in page.locator(".messages").inner_text()
    offer = page.locator(".undo-offer")
    assert f"undo your decision on case #{case.pk}" in offer.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "decision-undo-offer-en.png"))

    offer.get_by_role("button", name="Undo").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert "Decision undone" in page.locator(".messages").inner_text()
    assert "withdrawn by its author" in page.locator("body").inner_text()
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW and case.claimed_by.username == "dewi"
    assert Decision.objects.get(case=case).withdrawn_at is not None
    page.screenshot(path=str(ARTIFACTS / "decision-undone-en.png"), full_page=True)
    # Leave the case page (its heartbeat and leave beacon) before the database is flushed.
    page.goto(f"{site_server.url}/queue/")
    page.wait_for_load_state("networkidle")


def test_undo_is_refused_once_the_window_has_passed(page, site_server, settings):
    settings.DECISION_UNDO_SECONDS = 2
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = CaseFactory(priority=80, category="prostitution")
    ReportFactory(case=case, description="Open BO Jaksel, tarif di bio")

    sign_in(page, site_server.url, "dewi")
    page.goto(f"{site_server.url}/cases/{case.pk}/")
    page.get_by_role("button", name="Claim this case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.locator("body").press("d")
    page.fill("#dismiss-rationale", "An ordinary dating profile.")
    page.locator("#decide-dismiss").get_by_label("Back to the queue").check()
    page.get_by_role("button", name="Dismiss the case").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    offer = page.locator(".undo-offer")
    assert f"case #{case.pk}" in offer.inner_text()
    page.wait_for_timeout(2500)  # the window (2 s here) runs out with the offer still shown

    offer.get_by_role("button", name="Undo").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert "The time to undo this decision has passed." in page.locator(".messages").inner_text()
    case.refresh_from_db()
    assert case.status == Case.Status.DISMISSED
    assert Decision.objects.get(case=case).withdrawn_at is None
    page.goto(f"{site_server.url}/queue/")
    page.wait_for_load_state("networkidle")
