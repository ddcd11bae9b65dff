"""A moderator works the queue with the keyboard in a real browser."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from config.roles import Role
from moderation.models import Case, Decision
from reports.models import Evidence
from tests.support.browser import sign_in
from tests.support.factories import CaseFactory, LegalBasisFactory, ReportFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def evidence_for(report) -> Evidence:
    content = picture()
    evidence = Evidence(
        report=report,
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="profile.png",
        width=64,
        height=48,
    )
    evidence.file.save("profile.png", ContentFile(content), save=False)
    evidence.save()
    return evidence


def test_a_moderator_takes_reviews_and_decides_with_the_keyboard(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    LegalBasisFactory()
    first = CaseFactory(priority=80, category="prostitution")
    report = ReportFactory(case=first, description="Open BO Jaksel, tarif di bio")
    evidence_for(report)
    second = CaseFactory(priority=20)

    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.locator("body").press("j")
    assert page.locator("tr.is-selected").count() == 1
    page.locator("body").press("n")
    page.wait_for_url(re.compile(rf"/cases/{first.pk}/$"))
    assert "You hold this case" in page.locator("#claim").inner_text()

    thumb = page.locator(".evidence-thumb").first
    assert "is-blurred" in thumb.get_attribute("class")
    page.locator("body").press("r")
    assert "is-blurred" not in thumb.get_attribute("class")
    thumb.scroll_into_view_if_needed()
    # The picture really loads from the evidence view (lazily, once it is in view).
    page.wait_for_function(
        "(img => img.complete && img.naturalWidth === 64)"
        "(document.querySelector('.evidence-thumb img'))"
    )

    page.locator("body").press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")

    page.locator("body").press("t")
    assert page.locator("#decide-takedown").is_visible()
    page.select_option("#takedown-basis", label="UU ITE Pasal 27 ayat (1)")
    page.fill("#takedown-rationale", "Profile offers paid sex with a price list.")
    page.locator("#decide-takedown").get_by_label("Take the next case").check()
    page.get_by_role("button", name="Propose the takedown").click()
    page.wait_for_url(re.compile(rf"/cases/{second.pk}/$"))
    assert f"Takedown proposed on case #{first.pk}" in page.locator(".messages").inner_text()

    decision = Decision.objects.get(case=first)
    assert decision.outcome == "propose_takedown" and decision.moderator.username == "dewi"
    assert Case.objects.get(pk=first.pk).status == "proposed"
    assert Case.objects.get(pk=second.pk).claimed_by.username == "dewi"
