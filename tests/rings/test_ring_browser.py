"""The ring card and a ring batch in a real browser (issue 17): a moderator opens a case whose
account shares pictures with four others, sees them listed with the pictures side by side,
blurred, ticks two of them and proposes their takedowns in one step; a supervisor then sees
the two proposals together in Approvals. Screenshots in English and Indonesian."""

from __future__ import annotations

import pytest

from config.roles import Role
from moderation.models import Decision
from tests.support.browser import ARTIFACTS, sign_in
from tests.support.factories import LegalBasisFactory, UserFactory
from tests.support.ring_card import evidence_on, link, reported, ring_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1440, 900
PHONE = "+6281234567890"


def a_ring():
    """Bella on MiChat; Telegram and WhatsApp accounts with her pictures and number."""
    bella = reported("bella.jaksel", display_name="Bella Jaksel", phones=[PHONE])
    others = [
        reported("bella_tg", platform="telegram", display_name="Bella TG"),
        reported("bella.wa", platform="whatsapp", display_name="Bella WA", phones=[PHONE]),
        reported("bellaa", platform="telegram", display_name="Bellaa"),
        reported("bella.vip", display_name="Bella VIP", status="proposed"),
    ]
    for n, other in enumerate(others):
        link(evidence_on(bella, shade=40 + n * 30), evidence_on(other, shade=50 + n * 30), n * 3)
    ring_of(bella, *others)
    return bella, others


def test_a_moderator_proposes_takedowns_for_two_ring_members_and_approvals_groups_them(
    page, site_server
):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    UserFactory(username="sari", roles=[Role.SUPERVISOR])
    LegalBasisFactory()
    bella, (telegram, whatsapp, *_rest) = a_ring()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, site_server.url, "dewi")

    page.goto(f"{site_server.url}/cases/{bella.pk}/")
    card = page.locator("#ring")
    assert "This account shares photos with 4 other reported accounts" in card.inner_text()
    assert card.locator("tr[data-ring-member]").count() == 4
    assert card.locator(".ring-pair .evidence-thumb.is-blurred").count() == 8
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(ARTIFACTS / "ring-card-en.png"))

    for member in (telegram, whatsapp):
        card.locator(f'tr[data-ring-member="{member.account_id}"] input[type=checkbox]').check()
    page.locator("#ring-basis").select_option(label="UU ITE Pasal 27 ayat (1)")
    page.locator("#ring-rationale").fill("Same photos and number: one operator.")
    page.get_by_role("button", name="Propose takedowns for the ticked cases").click()
    page.wait_for_load_state()
    assert "Takedowns proposed on 2 cases" in page.locator(".messages").inner_text()
    batch = {d.batch_id for d in Decision.objects.all()}
    assert len(batch) == 1 and Decision.objects.count() == 2

    page.context.add_cookies([{"name": "django_language", "value": "id", "url": site_server.url}])
    page.goto(f"{site_server.url}/cases/{bella.pk}/")
    card = page.locator("#ring")
    assert "Akun ini memakai foto yang sama dengan 4 akun lain" in card.inner_text()
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(ARTIFACTS / "ring-card-id.png"))

    page.context.clear_cookies()
    sign_in(page, site_server.url, "sari")
    page.goto(f"{site_server.url}/approvals/")
    group = page.locator(".proposal-batch")
    assert group.count() == 1
    assert "Ring batch · 2 takedown proposals" in group.inner_text()
    assert group.locator("article.proposal").count() == 2
    assert group.get_by_role("button", name="Approve").count() == 2
    page.screenshot(path=str(ARTIFACTS / "approvals-batch-en.png"), full_page=True)
