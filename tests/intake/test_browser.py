"""A member of the public reports an account in a real Chromium; staff open the evidence."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from config.roles import Role
from reports.models import Evidence, Report
from tests.support.browser import sign_in
from tests.support.factories import UserFactory
from tests.support.intake import image_bytes, michat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The policy the site is moving to: nothing inline, nothing from elsewhere.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def with_strict_csp(page) -> list[str]:
    """Serve every page under the strict CSP and collect any violation the browser reports."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def add_csp(route):
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(r".*/report/.*"), add_csp)
    return violations


def test_a_public_report_with_screenshots_gets_a_receipt_and_a_status(
    page, site_server, settings, chromium
):
    settings.ALTCHA_MAX_NUMBER = 20_000
    cache.clear()
    platform = michat()
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    violations = with_strict_csp(page)

    page.goto(site_server.url + "/report/")
    page.get_by_label("Platform", exact=True).select_option(str(platform.pk))
    page.get_by_label("Account", exact=True).fill("+62 812-3456-7890")
    page.get_by_label("What is wrong").select_option("prostitution")
    page.get_by_label("Description").fill("Open BO <b>tarif</b> di profil, minta DP.")
    page.get_by_label("Screenshots").set_input_files(
        [
            {"name": "chat.png", "mimeType": "image/png", "buffer": image_bytes("PNG")},
            {
                "name": "profil.jpg",
                "mimeType": "image/jpeg",
                "buffer": image_bytes("JPEG", exif=True),
            },
        ]
    )
    page.get_by_text("Check done").wait_for()
    page.get_by_role("button", name="Send report").click()
    page.locator("[data-receipt-code]").wait_for()
    assert re.search(r"/report/status/SR-[^/?]+\?new=1$", page.url)
    code = page.locator("[data-receipt-code]").inner_text().strip()
    assert re.fullmatch(r"SR-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    report = Report.objects.get(receipt_code=code)
    assert report.evidence.count() == 2
    assert violations == []

    page.goto(f"{site_server.url}/report/status/")
    page.get_by_label("Receipt code").fill(code.lower())
    page.get_by_role("button", name="Check").click()
    page.locator("[data-status]").wait_for()
    assert page.url.endswith(f"/report/status/{code}")
    assert page.locator("[data-status]").inner_text() == "Received"

    evidence = Evidence.objects.filter(report=report).order_by("pk").first()
    url = f"{site_server.url}/evidence/{evidence.pk}/"
    # A moderator sees the screenshot in the page.
    sign_in(page, site_server.url, "dewi")
    # Opened in a tab, it is a page of ours (tests/project/test_browser_console.py) whose
    # picture is the evidence file itself.
    with page.expect_response(
        lambda r: r.url == url and r.request.resource_type == "image"
    ) as picture:
        response = page.goto(url)
    assert response.status == 200
    assert picture.value.headers["content-type"] == "image/png"
    assert picture.value.headers["x-content-type-options"] == "nosniff"
    assert page.locator("img").evaluate("img => img.naturalWidth") == 64
