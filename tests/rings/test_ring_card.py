"""The case page's ring card (issue 17): the other reported accounts linked to this one, their
platforms, cases and states, which were taken down, why each is linked, and the pictures they
share side by side — never a restricted picture's address for a non-specialist, a placeholder
for a picture retention deleted, and a fixed number of queries whatever the ring's size."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation.models import Case
from moderation.rings import ring_for_case, rings_rebuild
from tests.support.factories import DecisionFactory, TakedownRequestFactory
from tests.support.ring_card import evidence_on, link, reported, ring_of

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"


def ring_card(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section class="card ring" id="ring".*?</section>', html, re.S)
    assert match, "the case page has no ring card"
    return match.group(0)


def taken_down(case: Case):
    """An earlier case of the account, taken down: the operator confirmed the request."""
    earlier = Case.objects.create(account=case.account, category=case.category, status="closed")
    request = TakedownRequestFactory(
        approval__decision=DecisionFactory(case=earlier),
        status="taken_down",
        resolved_at=timezone.now(),
    )
    case.account.status = "taken_down"
    case.account.save(update_fields=["status"])
    return request


@pytest.fixture
def ring():
    """Bella (MiChat) shares a picture with Bella2 (Telegram) and a number with Bella3
    (WhatsApp); Bella4 (MiChat, taken down before) has Bella2's profile address only."""
    bella = reported("bella", phones=[PHONE])
    telegram = reported("bella2", platform="telegram", profile_url="https://t.me/bella2")
    whatsapp = reported("bella3", platform="whatsapp", phones=[PHONE], status="proposed")
    old = reported("bella4", profile_url="HTTPS://T.ME/bella2/")
    link(evidence_on(bella), evidence_on(telegram), distance=6)
    request = taken_down(old)
    ring_of(bella, telegram, whatsapp, old)
    return {
        "bella": bella,
        "telegram": telegram,
        "whatsapp": whatsapp,
        "old": old,
        "request": request,
    }


def test_the_card_lists_the_members_their_platforms_states_takedowns_and_why_linked(
    ring, client_for, moderator
):
    bella = ring["bella"]
    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))

    assert "This account shares photos with 3 other reported accounts" in card
    rows = re.findall(r'<tr data-ring-member="(\d+)"[^>]*>(.*?)</tr>', card, re.S)
    assert [int(pk) for pk, _ in rows] == [
        ring["telegram"].account_id,  # a picture first, then the number, then the rest
        ring["whatsapp"].account_id,
        ring["old"].account_id,
    ]
    telegram, whatsapp, old = (row for _, row in rows)
    assert "Telegram" in telegram and "bella2" in telegram
    assert "1 shared picture (distance 6)" in telegram
    assert f'href="/cases/{ring["telegram"].pk}/"' in telegram
    assert "Whatsapp" in whatsapp and f"Same phone number {PHONE}" in whatsapp
    assert "Takedown proposed" in whatsapp
    assert "Same profile address as telegram · bella2" in old
    assert "Taken down" in old
    # A moderator does not read deliveries: the takedown links to its case instead.
    assert f'href="/cases/{ring["request"].case_id}/"' in old
    assert "1 of them already taken down." in card


def test_a_supervisor_follows_a_members_takedown_to_its_request(ring, client_for, supervisor):
    card = ring_card(client_for(supervisor).get(f"/cases/{ring['bella'].pk}/"))
    assert f'href="/takedowns/{ring["request"].pk}/"' in card


def test_a_rebuilt_ring_lists_a_member_linked_only_through_another(client_for, moderator):
    bella = reported("bella")
    telegram = reported("bella2", platform="telegram")
    further = reported("bella3", platform="telegram")
    link(evidence_on(bella), evidence_on(telegram), distance=4)
    link(evidence_on(telegram), evidence_on(further), distance=9)
    rings_rebuild()

    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))

    assert "This account shares photos with 2 other reported accounts" in card
    assert "Ring computed" in card
    rows = dict(re.findall(r'<tr data-ring-member="(\d+)"[^>]*>(.*?)</tr>', card, re.S))
    assert "1 shared picture (distance 4)" in rows[str(telegram.account_id)]
    assert "Shares a picture with telegram · bella2 (distance 9)" in rows[str(further.account_id)]
    assert card.count("data-ring-pair=") == 1  # only this account's own pictures are paired


def test_before_the_ring_is_computed_the_direct_links_show(client_for, moderator):
    bella = reported("bella", phones=[PHONE])
    reported("bella3", platform="whatsapp", phones=[PHONE])
    reported("stranger", phones=["+6281111111111"])

    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))

    assert "This account is linked to 1 other reported account" in card
    assert "Direct links only" in card
    assert "bella3" in card and "stranger" not in card


def test_the_profile_address_links_before_the_ring_is_computed(moderator):
    bella = reported("bella", profile_url="https://MiChat.id/u/bella/")
    other = reported("bella-tg", platform="telegram", profile_url="https://michat.id/u/bella")

    ring = ring_for_case(case=bella, viewer=moderator)

    assert ring is not None
    assert [m.account_id for m in ring.members] == [other.account_id]
    assert [r.kind for r in ring.members[0].reasons] == ["profile_url"]


def test_an_account_linked_to_nobody_has_no_card(client_for, moderator):
    alone = reported("alone", phones=[PHONE])
    html = client_for(moderator).get(f"/cases/{alone.pk}/").content.decode()
    assert 'id="ring"' not in html


def test_a_stock_picture_links_nobody(moderator, settings):
    settings.RING_STOCK_PICTURE_ACCOUNTS = 3
    bella = reported("bella")
    logo = evidence_on(bella)
    for n in range(4):
        link(logo, evidence_on(reported(f"shop{n}")), distance=2)

    assert ring_for_case(case=bella, viewer=moderator) is None


def test_a_non_specialist_never_gets_a_csam_pictures_address_while_a_specialist_does(
    client_for, moderator, specialist
):
    bella = reported("bella")
    csam = reported(
        "hidden", platform="telegram", category="child_sexual_abuse", display_name="Secret Name"
    )
    mine, theirs = evidence_on(bella), evidence_on(csam)
    link(mine, theirs, distance=3)
    ring_of(bella, csam)

    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))
    assert f"/evidence/{theirs.pk}/" not in card
    assert "Restricted picture · specialists only" in card
    assert f"/evidence/{mine.pk}/" in card  # this account's own picture is not restricted
    assert "Secret Name" not in card and "name hidden" in card
    assert "hidden" in card  # the identifier, as the queue shows it

    card = ring_card(client_for(specialist).get(f"/cases/{bella.pk}/"))
    assert f"/evidence/{theirs.pk}/" in card
    assert "Restricted picture" not in card
    assert "Secret Name" in card


def test_pictures_are_drawn_with_the_viewers_evidence_settings(client_for, moderator):
    from moderation.models import StaffPreference

    StaffPreference.objects.create(user=moderator, evidence_blur="light", evidence_grayscale=True)
    bella, other = reported("bella"), reported("bella2", platform="telegram")
    link(evidence_on(bella), evidence_on(other))

    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))

    thumbs = re.findall(r'class="evidence-thumb ([^"]*)"', card)
    assert len(thumbs) == 2
    assert all(set(t.split()) == {"blur-light", "is-blurred", "is-gray"} for t in thumbs)
    assert "style=" not in card  # the strict CSP: classes only


def test_a_picture_deleted_under_retention_stays_a_link_with_a_placeholder(client_for, moderator):
    bella, other = reported("bella"), reported("bella2", platform="telegram")
    mine, theirs = evidence_on(bella), evidence_on(other)
    link(mine, theirs, distance=5)
    theirs.deleted_at = timezone.now()
    theirs.save(update_fields=["deleted_at"])

    card = ring_card(client_for(moderator).get(f"/cases/{bella.pk}/"))

    assert "Deleted under retention on" in card
    assert f"/evidence/{theirs.pk}/" not in card
    assert "1 shared picture (distance 5)" in card
    assert f'data-ring-member="{other.account_id}"' in card


def test_members_past_the_cap_are_counted_not_listed(moderator, settings):
    from moderation.rings import page

    bella = reported("bella", phones=[PHONE])
    others = [reported(f"m{n}", phones=[PHONE]) for n in range(5)]
    ring_of(bella, *others)
    original = page.MEMBERS_SHOWN
    page.MEMBERS_SHOWN = 3
    try:
        ring = ring_for_case(case=bella, viewer=moderator)
    finally:
        page.MEMBERS_SHOWN = original
    assert ring is not None
    assert (len(ring.members), ring.total, ring.more) == (3, 5, 2)


def ring_around(size: int, name: str, phone: str) -> Case:
    """A case whose account shares a picture of its own with each of `size` - 1 others (half
    of them its number too, pairs of them a profile address), the last one linked only
    through the first; each with a case, every fifth taken down, every seventh restricted."""
    bella = reported(name, phones=[phone])
    members: list[Case] = []
    for n in range(size):
        other = reported(
            f"{name}-{n}",
            platform=("michat", "telegram", "whatsapp")[n % 3],
            category="child_sexual_abuse" if n % 7 == 3 else "prostitution",
            phones=[phone] if n % 2 and n < size - 1 else [],
            profile_url=f"https://t.me/{name}-{n // 2}" if n < size - 1 else "",
        )
        theirs = evidence_on(other)
        link(evidence_on(members[0] if n == size - 1 else bella), theirs, distance=n % 30)
        if n % 5 == 0:
            taken_down(other)
        members.append(other)
    ring_of(bella, *members)
    return bella


def test_the_case_page_makes_no_more_queries_with_a_ring_of_30_than_with_a_ring_of_3(
    client_for, moderator, django_assert_max_num_queries
):
    client = client_for(moderator)
    small, big = ring_around(3, "small", "+6281111111111"), ring_around(30, "big", PHONE)
    client.get(f"/cases/{small.pk}/")  # what a first request reads once (session, roles)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/cases/{small.pk}/").status_code == 200

    with django_assert_max_num_queries(len(queries)):
        response = client.get(f"/cases/{big.pk}/")

    card = ring_card(response)
    assert "This account shares photos with 30 other reported accounts" in card
    assert card.count("data-ring-pair=") == 29  # the last one shares none with this account
    assert "In the same ring" not in card  # the last one is linked through the first
