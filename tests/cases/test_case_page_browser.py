"""The case page at a glance in a real browser (issue 16): on a 1440x900 window the summary
card of a case with 78 reports is wholly above the fold, in English and in Indonesian, and a
5,000-character unbroken line does not make the page wider than the window."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from config.roles import Role
from reports.models import Evidence
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import (
    CaseFactory,
    ReportFactory,
    SourceOrganisationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1440, 900
TEXTS = [
    "Open BO Jaksel, tarif di bio, chat langsung untuk booking",
    "Jual video syur, DM untuk harga",
    "Akun ini menawarkan jasa prostitusi di Jakarta Selatan dan Depok, "
    "dengan daftar harga per jam di foto profil dan nomor WhatsApp untuk pemesanan",
    "Profil palsu memakai foto orang lain",
    "Nomor ini dipakai untuk menawarkan pinjaman online ilegal dengan bunga sangat tinggi dan "
    "ancaman menyebarkan data pribadi peminjam yang terlambat membayar kepada semua kontaknya",
    "Grup ini membagikan tautan judi slot setiap jam, admin meminta anggota mengajak teman "
    "untuk mendapat bonus deposit dan menyebarkan nomor rekening penampung di beberapa bank",
    "Akun menjual obat keras tanpa resep dan mengirimkannya lewat ojek daring ke seluruh kota",
]
UNBROKEN = "x" * 5000


def picture(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (shade, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def evidence_on(report, shade: int) -> None:
    content = picture(shade)
    evidence = Evidence(
        report=report,
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="profile.png",
        width=160,
        height=120,
    )
    evidence.file.save("profile.png", ContentFile(content), save=False)
    evidence.save()


def busy_case():
    """78 reports from the ministry, the police and the public, in seven texts (most of two
    lines) and one 5,000-character unbroken line (the newest); 32 of them with a picture."""
    case = CaseFactory(report_count=78, reporter_count=24, priority=70, category="prostitution")
    ministry = SourceOrganisationFactory(slug="kominfo", name="Komdigi", kind="ministry")
    police = SourceOrganisationFactory(slug="polri", name="Polri", kind="police")
    start = timezone.now() - timedelta(days=3)
    for n in range(78):
        if n < 45:
            source = {"organisation": ministry}
        elif n < 60:
            source = {"organisation": police, "source_kind": "police"}
        else:
            source = {"organisation": None, "source_kind": "public", "external_reference": None}
        text = UNBROKEN if n == 77 else TEXTS[n % len(TEXTS)]
        report = ReportFactory(
            case=case, description=text, received_at=start + timedelta(minutes=n), **source
        )
        if n % 5 < 2:
            evidence_on(report, shade=n * 3)
    return case


def summary_bottom(page) -> float:
    box = page.locator("#summary").bounding_box()
    assert box is not None
    return box["y"] + box["height"]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_summary_of_78_reports_is_above_the_fold_and_long_lines_wrap(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    case = busy_case()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, site_server.url, "dewi")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{site_server.url}/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#summary .evidence-thumb.is-blurred").count() == 24
    assert "and 8 more" in page.locator("#summary").inner_text()
    assert summary_bottom(page) <= HEIGHT
    assert page_width(page) <= WIDTH
    page.screenshot(path=str(ARTIFACTS / "case-summary-en.png"))

    # The folded reports open without a script, and still nothing is wider than the window.
    page.get_by_text("Show 73 more reports").click()
    assert page.locator("details.more-reports article.report").first.is_visible()
    assert page_width(page) <= WIDTH

    page.context.add_cookies([{"name": "django_language", "value": "id", "url": site_server.url}])
    page.goto(f"{site_server.url}/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "id"
    assert summary_bottom(page) <= HEIGHT
    assert page_width(page) <= WIDTH
    page.screenshot(path=str(ARTIFACTS / "case-summary-id.png"))
