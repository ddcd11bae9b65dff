"""The dense queue and the claim released on leaving a case, in a real browser (Chromium)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config.roles import Role
from moderation.models import AuditEvent, Case
from reports.models import Evidence
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import CaseFactory, ReportFactory, UserFactory
from tests.support.queue import make_open_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISIBLE_ROWS = """() => Array.from(document.querySelectorAll("[data-queue] tbody tr[data-href]"))
  .filter(row => { const r = row.getBoundingClientRect();
                   return r.top >= 0 && r.bottom <= window.innerHeight; }).length"""


def a_busy_queue(count: int = 40) -> list[Case]:
    now = timezone.now()
    cases = make_open_cases(count)
    for i, case in enumerate(cases):
        report = ReportFactory(
            case=case,
            description=f"Open BO area Jakarta Selatan, tarif dan foto di bio, nomor {i} "
            + "dan seterusnya " * 20,
            received_at=now,
        )
        Evidence.objects.create(
            report=report, file=f"e/{i}.png", content_type="image/png", size=1, sha256="0" * 64
        )
    return cases


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_queue_shows_fifteen_rows_with_text_evidence_and_age_on_a_1440x900_screen(
    page, site_server
):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    a_busy_queue()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.wait_for_selector("#queue-counts .stats")  # the counts load after the page

    assert page.evaluate(VISIBLE_ROWS) >= 15
    first = page.locator("[data-queue] tbody tr[data-href]").first
    assert "Open BO area Jakarta Selatan" in first.locator("td.snippet").inner_text()
    assert first.locator("td.snippet").evaluate("td => td.scrollWidth > td.clientWidth")  # cut
    assert first.locator("td.num").nth(1).inner_text() == "1"  # one piece of evidence
    assert re.fullmatch(r"\d+ (min|h|d)", first.locator("td.age").inner_text())
    target = first.locator("td.target").inner_text()
    assert re.fullmatch(r"(due in|overdue by) \d+ (min|h|d)", target)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue-rows-en.png"))

    page.select_option("#language-select", "id")
    page.wait_for_selector("html[lang='id']")
    page.wait_for_selector("#queue-counts .stats")
    assert page.locator("h1").inner_text() == "Antrean peninjauan"
    assert page.evaluate(VISIBLE_ROWS) >= 15
    first = page.locator("[data-queue] tbody tr[data-href]").first
    assert re.fullmatch(r"\d+ (mnt|jam|hari)", first.locator("td.age").inner_text())
    assert "Kementerian" in first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "queue-rows-id.png"))


def test_leaving_the_case_page_returns_the_claim_but_a_note_keeps_it(page, site_server):
    dewi = UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = CaseFactory(priority=90)
    ReportFactory(case=case)
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.get_by_role("button", name="Next case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert Case.objects.get(pk=case.pk).claimed_by == dewi

    # Submitting a form on the page (a note) stays with the case: the claim is kept.
    page.fill("#note-body", "Checking the phone number with the police list.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.wait_for_load_state("networkidle")
    assert Case.objects.get(pk=case.pk).claimed_by == dewi

    # Going elsewhere returns it to the queue.
    page.get_by_role("link", name="← Queue").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    assert wait_for(lambda: Case.objects.get(pk=case.pk).status == "open")
    assert Case.objects.get(pk=case.pk).claimed_by is None
    assert AuditEvent.objects.filter(
        action="case.released", actor_user=dewi, subject_id=str(case.pk)
    ).exists()


def test_closing_the_case_page_returns_the_claim(page, site_server):
    dewi = UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = CaseFactory(priority=90, opened_at=timezone.now() - timedelta(hours=1))
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    tab = page.context.new_page()  # a second tab, signed in by the same cookies
    tab.goto(f"{site_server.url}/queue/")
    tab.get_by_role("button", name="Next case").click()
    tab.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert Case.objects.get(pk=case.pk).claimed_by == dewi

    tab.close(run_before_unload=True)
    assert wait_for(lambda: Case.objects.get(pk=case.pk).status == "open")
    page.goto(f"{site_server.url}/cases/{case.pk}/")
    assert "Claim this case" in page.locator("#claim").inner_text()


def test_after_dismissing_the_moderator_goes_back_to_the_queue_holding_nothing(page, site_server):
    dewi = UserFactory(username="dewi", roles=[Role.MODERATOR])
    case, waiting = CaseFactory(priority=90), CaseFactory(priority=10)
    ReportFactory(case=case)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.locator("body").press("n")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.locator("body").press("d")
    form = page.locator("#decide-dismiss")
    assert form.get_by_label("Back to the queue").is_checked()  # the first time, the safe way
    form.get_by_label("Why is this not a violation?").fill("A shop selling phone cases.")
    form.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "case-after-decision-choice-en.png"))
    form.get_by_role("button", name="Dismiss the case").click()
    page.wait_for_url(re.compile(r"/queue/$"))

    assert Case.objects.get(pk=case.pk).status == "dismissed"
    waiting.refresh_from_db()
    assert waiting.status == "open" and waiting.claimed_by is None
    assert not Case.objects.filter(claimed_by=dewi).exists()


def test_reloading_the_case_page_or_switching_its_language_keeps_the_claim(page, site_server):
    dewi = UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = CaseFactory(priority=90)
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.get_by_role("button", name="Next case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))

    page.locator("body").press("F5")
    page.wait_for_load_state("networkidle")
    page.reload(wait_until="networkidle")
    assert "You hold this case" in page.locator("#claim").inner_text()
    case.refresh_from_db()
    assert case.status == "in_review" and case.claimed_by == dewi

    page.select_option("#language-select", "id")
    page.wait_for_selector("html[lang='id']")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{case.pk}/")
    assert "Anda" in page.locator("#claim").inner_text()
    case.refresh_from_db()
    assert case.status == "in_review" and case.claimed_by == dewi
