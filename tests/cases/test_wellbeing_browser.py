"""Reviewer wellbeing in a real browser (issue 16): blur and grayscale as the person set
them, drawn by the stylesheet alone (strict CSP), and the break prompt once they have seen
the day's threshold of graphic pictures."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.base import ContentFile

from config.roles import Role
from reports.models import Evidence
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import CaseFactory, ReportFactory, UserFactory
from tests.support.intake import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_PICTURE_FILTER = (
    "() => getComputedStyle(document.querySelector('.evidence-thumb img')).filter"
)


def picture_on(case) -> Evidence:
    content = image_bytes("PNG", (320, 240))
    evidence = Evidence(
        report=ReportFactory(case=case, description="Open BO, foto di profil"),
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="shot.png",
    )
    evidence.file.save("shot.png", ContentFile(content), save=False)
    evidence.save()
    return evidence


def test_blur_and_grayscale_follow_the_settings_and_a_break_is_suggested(
    page, site_server, settings
):
    settings.EVIDENCE_BLUR_DEFAULT = "strong"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = True
    settings.GRAPHIC_DAILY_BREAK_THRESHOLD = 2
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = CaseFactory(priority=50, category="prostitution")
    for _ in range(3):
        picture_on(case)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    sign_in(page, site_server.url, "dewi")
    page.goto(f"{site_server.url}/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")  # the three pictures' bytes are served
    look = page.evaluate(FIRST_PICTURE_FILTER)
    assert "grayscale(1)" in look and "blur(18px)" in look
    assert "You have seen 0 graphic pictures today." in page.locator(".graphic-count").inner_text()

    # Revealing a picture removes the blur only: grayscale stays.
    page.locator(".evidence-thumb").first.click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.evidence-thumb img')).filter"
        " === 'grayscale(1)'"
    )

    # The three pictures were counted: past the threshold of 2, the page suggests a break.
    with page.expect_navigation(url=re.compile(rf"/cases/{case.pk}/$")):
        page.get_by_label("Blur", exact=True).select_option("none")  # saved as it changes
    page.wait_for_load_state("networkidle")
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert "You have seen 3 graphic pictures today" in alert.inner_text()
    assert "Time for a break?" in alert.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wellbeing-break-prompt-en.png"), full_page=True)

    look = page.evaluate(FIRST_PICTURE_FILTER)
    assert "blur" not in look and "grayscale" in look  # blur none, grayscale still on
    with page.expect_navigation(url=re.compile(rf"/cases/{case.pk}/$")):
        page.get_by_label("Grayscale", exact=True).select_option("off")
    page.wait_for_load_state("networkidle")
    look = page.evaluate(FIRST_PICTURE_FILTER)
    assert "blur" not in look and "grayscale" not in look
    assert look == "none"

    # Hidden for the rest of the day once dismissed.
    with page.expect_navigation(url=re.compile(rf"/cases/{case.pk}/$")):
        page.get_by_role("button", name="Hide for today").click()
    assert page.locator(".break-prompt").count() == 0
    assert not [e for e in errors if "Content Security Policy" in e]
    page.goto(f"{site_server.url}/queue/")
    page.wait_for_load_state("networkidle")
