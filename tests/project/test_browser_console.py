"""The console's rough edges in Chromium (issue 16): a signed-out filter change, evidence
opened in a tab, the 403 page in Indonesian, and a walk through the main pages in
Indonesian that finds no English word of the interface. The walk leaves screenshots of the
queue, a case, approvals and the dashboard in both languages under test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.roles import Role
from moderation.audit import Actor, audit_record
from moderation.models import Case
from scripts.po_fill import ENTRY as PO_ENTRY
from scripts.po_fill import unquote as po_unquote
from tests.support import ROOT
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import (
    CaseFactory,
    DecisionFactory,
    LegalBasisFactory,
    PlatformFactory,
    ReportFactory,
    TakedownRequestFactory,
    UserFactory,
)
from tests.support.intake import make_evidence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCALE = ROOT / "locale"


def _entries(po: Path) -> list[tuple[str, str]]:
    return [
        (po_unquote(m["id"]), po_unquote("msgstr " + m["str"].split(" ", 1)[1]))
        for m in PO_ENTRY.finditer(po.read_text(encoding="utf-8"))
    ]


WORD = re.compile(r"[A-Za-z]{3,}")
# Names, identifiers and abbreviations the interface writes the same in both languages.
SAME_IN_BOTH = {
    "saring",
    "api",
    "csv",
    "json",
    "sha",
    "wib",
    "utc",
    "totp",
    "http",
    "https",
    "url",
    "michat",
    "ite",
    "kuhp",
    "pdf",
    "png",
    "jpeg",
    "webp",
    "otp",
    "csam",
    "dsa",
    "sla",
    "ozone",
    "lines",  # the "JSON Lines" export format
}
# Placeholders and codes (`%(reports_shown)s`, `{count}`, `case.claimed`) are not words.
NOT_WORDS = re.compile(r"%\(\w+\)\w|\{\w+\}|\w+(?:\.\w+)+")


def english_only_words() -> set[str]:
    """Words of the interface's English strings (the English catalogue's msgids) that no
    Indonesian string uses: seeing one on an Indonesian page means English leaked through."""
    english, indonesian = set(), set()
    for msgid, _msgstr in _entries(LOCALE / "en" / "LC_MESSAGES" / "django.po"):
        english |= {w.lower() for w in WORD.findall(NOT_WORDS.sub(" ", msgid))}
    for _msgid, msgstr in _entries(LOCALE / "id" / "LC_MESSAGES" / "django.po"):
        indonesian |= {w.lower() for w in WORD.findall(NOT_WORDS.sub(" ", msgstr))}
    return english - indonesian - SAME_IN_BOTH


# The page's text less what is shown as code (identifiers, JSON data, hashes).
VISIBLE_TEXT = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll("code, script, style").forEach((node) => node.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""


def english_on(page) -> set[str]:
    words = english_only_words()
    return {w for w in WORD.findall(page.evaluate(VISIBLE_TEXT)) if w.lower() in words}


def as_indonesian(page, base_url: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "id", "url": base_url}])


def test_a_signed_out_filter_change_lands_on_the_sign_in_page_not_in_the_results(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    CaseFactory(category="fraud")
    sign_in(page, site_server.url, "dewi")
    page.wait_for_url(re.compile(r"/queue/$"))
    other_tab = page.context.new_page()
    other_tab.goto(site_server.url + "/queue/")
    other_tab.get_by_role("button", name="Sign out").click()
    other_tab.wait_for_url(re.compile(r"/login/"))
    other_tab.close()

    page.locator("#queue-filters select").first.select_option(index=1)
    page.wait_for_url(re.compile(r"/login/\?next="))
    assert page.locator("#queue-results").count() == 0
    assert page.locator("form input[name=password]").count() == 1
    assert page.locator("header.topbar").count() == 1  # one page, not a page in a page


def test_evidence_opened_in_a_tab_logs_no_csp_error_and_is_centred(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    evidence = make_evidence()
    sign_in(page, site_server.url, "dewi")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(f"{site_server.url}/evidence/{evidence.pk}/")
    picture = page.locator("img")
    picture.wait_for()
    page.wait_for_function("document.querySelector('img').complete")
    box = picture.bounding_box()
    assert box is not None and box["width"] > 0
    assert abs(box["x"] + box["width"] / 2 - 600) <= 2
    assert abs(box["y"] + box["height"] / 2 - 400) <= 2
    assert not [text for text in errors if "Content Security Policy" in text], errors


def test_the_403_page_in_indonesian_leads_back(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    sign_in(page, site_server.url, "dewi")
    as_indonesian(page, site_server.url)
    response = page.goto(site_server.url + "/audit/")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "Tidak diizinkan"
    page.get_by_role("link", name="Ke halaman awal Anda").click()
    page.wait_for_url(re.compile(r"/queue/$"))


def _world():
    LegalBasisFactory()
    platform = PlatformFactory(slug="michat", name="MiChat")
    siti = UserFactory(username="siti", roles=[Role.SUPERVISOR])
    dewi = UserFactory(username="dewi", roles=[Role.MODERATOR])
    UserFactory(username="rina", roles=[Role.AUDITOR])
    case = CaseFactory(account__platform=platform, category="gambling", priority=70)
    for n in range(4):
        ReportFactory(case=case, category="gambling", description=f"Judi daring, slot gacor {n}")
    for n in range(20):
        other = CaseFactory(account__platform=platform, priority=n)
        ReportFactory(case=other, description="Jasa BO Jaksel, tarif di bio")
    proposed = CaseFactory(account__platform=platform, status=Case.Status.PROPOSED)
    ReportFactory(case=proposed, description="Jasa BO, tarif di bio")
    DecisionFactory(case=proposed, moderator=dewi, rationale="Profil menawarkan jasa seks.")
    TakedownRequestFactory(
        approval__decision__moderator=dewi,
        approval__decision__rationale="Profil menawarkan jasa seks.",
        approval__supervisor=siti,
        approval__comment="Bukti sudah diperiksa.",
        platform=platform,
    )
    audit_record(actor=Actor.staff(dewi), action="case.claimed", subject=case)
    return case, siti


WALK = {
    "queue": "/queue/",
    "case": "/cases/{case}/",
    "account": "/accounts/{account}/",
    "approvals": "/approvals/",
    "takedowns": "/takedowns/",
    "dashboard": "/supervision/",
}
AUDIT_WALK = {
    "audit": "/audit/",
    "audit-trail": "/audit/trail/",
    "audit-decisions": "/audit/decisions/",
    "audit-case": "/audit/cases/{case}/",
}
SCREENSHOTS = {"queue", "case", "approvals", "dashboard"}


def test_the_main_pages_in_indonesian_show_no_english_word_of_the_interface(chromium, site_server):
    case, _siti = _world()
    found: dict[str, set[str]] = {}
    ARTIFACTS.mkdir(exist_ok=True)
    for username, walk in (("siti", WALK), ("rina", AUDIT_WALK)):
        context = chromium.new_context(
            locale="en-US", timezone_id="Asia/Jakarta", viewport={"width": 1440, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, site_server.url, username)
        for language in ("en", "id"):
            page.context.add_cookies(
                [{"name": "django_language", "value": language, "url": site_server.url}]
            )
            for name, path in walk.items():
                url = site_server.url + path.format(case=case.pk, account=case.account_id)
                response = page.goto(url)
                assert response is not None and response.status == 200, (name, language)
                assert page.locator("html").get_attribute("lang") == language
                if name in SCREENSHOTS:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{language}.png"))
                if language == "id":
                    english = english_on(page)
                    if english:
                        found[name] = english
        context.close()
    assert not found, f"English words on Indonesian pages: {found}"


def test_the_word_list_holds_the_interfaces_english_words_and_no_indonesian_ones():
    words = english_only_words()
    assert {"queue", "claimed", "overdue", "waiting", "reports"} <= words
    assert not {"antrean", "kasus", "laporan", "saring", "status"} & words
