"""An auditor filters the decision log in a real browser, exports it, and downloads the file."""

from __future__ import annotations

import csv
import re

import django_rq
import pytest
from rq import SimpleWorker

from config.roles import Role
from tests.support.audit import FILTERS, at, decision_on
from tests.support.browser import sign_in
from tests.support.factories import PlatformFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_auditor_filters_exports_and_downloads_the_decision_log(page, site_server):
    UserFactory(username="ayu", roles=[Role.AUDITOR])
    michat, other = PlatformFactory(slug="michat", name="MiChat"), PlatformFactory(slug="wa")
    wanted = {decision_on(michat, when=at(n)).pk for n in (0, 5, 30, 47.5)}
    decision_on(michat, when=at(49))  # the day after
    decision_on(other, when=at(2))  # another platform
    decision_on(michat, category="gambling", when=at(2))
    queue = django_rq.get_queue("default")
    queue.empty()

    sign_in(page, site_server.url, "ayu")
    page.wait_for_url(re.compile(r"/audit/$"))
    page.get_by_role("link", name="Decision log").first.click()
    page.wait_for_url(re.compile(r"/audit/decisions/"))
    assert page.locator("tr.decision-row").count() == 7

    page.get_by_label("From (WIB)").fill(FILTERS["date_from"])
    page.get_by_label("To (WIB, inclusive)").fill(FILTERS["date_to"])
    page.get_by_label("Platform").select_option("michat")
    page.get_by_label("Category").select_option("prostitution")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"platform=michat"))  # htmx pushed the filtered address
    page.wait_for_function("document.querySelectorAll('tr.decision-row').length === 4")
    shown = {
        int(x)
        for x in page.locator("tr.decision-row").evaluate_all(
            "rows => rows.map(r => r.dataset.decision)"
        )
    }
    assert shown == wanted

    page.get_by_label("Export these decisions as").select_option("csv")
    page.get_by_role("button", name="Export").click()
    page.wait_for_url(re.compile(r"/audit/exports/\d+/$"))
    assert page.locator("#export-progress").get_attribute("data-status") == "queued"
    assert page.locator("progress#export-bar").is_visible()

    # The job is in Redis; a real worker takes it while the page keeps polling.
    assert queue.count == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    page.wait_for_selector('#export-progress[data-status="done"]', timeout=20_000)
    bar = page.locator("progress#export-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "4"
    assert page.locator("#export-rows").inner_text() == "4"

    # Beside the file, its proof bundle (tests/audit/test_log.py checks one end to end).
    assert page.get_by_role("link", name="Download the proof bundle").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(r["decision_id"]) for r in rows} == wanted and len(rows) == 4
    assert {r["platform"] for r in rows} == {"michat"}
