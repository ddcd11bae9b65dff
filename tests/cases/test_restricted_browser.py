"""Restricted queues in a real browser (issue 16): a moderator without the Specialist role sees
that a CSAM case exists — its row and the category's count — but its page and its evidence
answer 403, with a page that says why; a specialist opens both."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from config.roles import Role
from moderation.cases.selectors import QUEUE_COUNTS_CACHE_KEY
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import CaseFactory, ReportFactory, UserFactory
from tests.support.intake import make_evidence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET_TEXT = "restricted-transcript-4412"


def _csam_case_with_evidence():
    case = CaseFactory(category="child_sexual_abuse", priority=90)
    report = ReportFactory(case=case, category="child_sexual_abuse", description=SECRET_TEXT)
    evidence = make_evidence()
    evidence.report = report
    evidence.save(update_fields=["report"])
    return case, evidence


def test_a_non_specialist_sees_the_csam_case_counted_but_gets_403_on_it_and_its_evidence(
    page, site_server
):
    UserFactory(username="budi", roles=[Role.MODERATOR])
    cache.delete(QUEUE_COUNTS_CACHE_KEY)  # another test's counts, cached for 20 s
    case, evidence = _csam_case_with_evidence()
    sign_in(page, site_server.url, "budi")

    page.goto(f"{site_server.url}/queue/")
    row = page.locator(f'tr[data-href="/cases/{case.pk}/"]')
    assert row.count() == 1
    assert "specialists only" in row.inner_text()
    assert SECRET_TEXT not in page.locator("body").inner_text()
    page.get_by_text("Counts per filter").click()
    assert "Child sexual abuse material: 1" in page.locator(".facets").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "restricted-queue-en.png"))

    response = page.goto(f"{site_server.url}/cases/{case.pk}/")
    assert response.status == 403
    body = page.locator("body").inner_text()
    assert "Specialist role" in body and SECRET_TEXT not in body
    page.screenshot(path=str(ARTIFACTS / "restricted-case-403-en.png"))

    response = page.goto(f"{site_server.url}/evidence/{evidence.pk}/")
    assert response.status == 403
    assert "Specialist role" in page.locator("body").inner_text()


def test_a_specialist_opens_the_csam_case_and_its_evidence(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR, Role.SPECIALIST])
    case, evidence = _csam_case_with_evidence()
    sign_in(page, site_server.url, "dewi")
    response = page.goto(f"{site_server.url}/cases/{case.pk}/")
    assert response.status == 200
    assert SECRET_TEXT in page.locator("body").inner_text()
    picture = page.request.get(f"{site_server.url}/evidence/{evidence.pk}/")
    assert picture.status == 200 and picture.headers["content-type"] == "image/png"
    page.goto(f"{site_server.url}/queue/")
    page.wait_for_load_state("networkidle")
