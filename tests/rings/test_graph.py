"""The ring graph (issue 17): accounts joined by shared pictures, numbers and profile
addresses; stock values join nobody; a rebuild replaces the stored rings."""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import ChatAccount
from moderation.models import AccountRing
from moderation.rings import rings_rebuild
from reports.models import PictureLink
from tests.support.factories import PlatformFactory
from tests.support.rings import account, link, picture

pytestmark = pytest.mark.django_db


def stored_rings() -> set[tuple[int, int, int]]:
    return set(AccountRing.objects.values_list("account_id", "ring", "size"))


def test_three_accounts_on_two_platforms_sharing_pictures_form_one_ring():
    first = account("bella_bo")
    second = account("bella.bo2")
    third = account("bellabo_official", platform="telegram")
    loner = account("someone_else", platform="telegram")
    one, two, three, four = picture(first), picture(second), picture(third), picture(loner)
    link(one, two, distance=4)
    link(two, three, distance=12)  # a recompressed, mirrored copy: farther, still linked
    picture(first)  # a picture no one else has
    assert four.pk  # the loner's picture links nowhere

    result = rings_rebuild()

    ring = min(first.pk, second.pk, third.pk)
    assert stored_rings() == {(a.pk, ring, 3) for a in (first, second, third)}
    assert (result.rings, result.accounts, result.largest) == (1, 3, 3)
    assert result.edges == {"phone": 0, "picture": 2, "profile_url": 0}
    assert {a.platform.slug for a in (first, second, third)} == {"michat", "telegram"}


def test_accounts_sharing_a_phone_number_join_and_so_do_their_neighbours():
    first = account("a1", phones=["+6281100000001"])
    second = account("a2", platform="whatsapp", phones=["+6281100000001", "+6281100000002"])
    third = account("a3", platform="telegram", phones=["+6281100000002"])
    account("a4", phones=["+6281100000003"])

    result = rings_rebuild()

    assert stored_rings() == {(a.pk, first.pk, 3) for a in (first, second, third)}
    assert result.edges["phone"] == 2


def test_a_shared_profile_address_joins_whatever_its_scheme_host_case_or_trailing_slash():
    first = account("p1", profile_url="  https://Linktr.ee/bella_bo/ ")
    second = account("p2", platform="telegram", profile_url="http://www.linktr.ee/bella_bo")
    other_path = account("p3", profile_url="https://linktr.ee/Bella_BO")  # the path's case counts
    account("p4")  # no profile address: joins nothing
    account("p5")

    result = rings_rebuild()

    assert stored_rings() == {(first.pk, first.pk, 2), (second.pk, first.pk, 2)}
    assert other_path.pk not in {row[0] for row in stored_rings()}
    assert result.edges["profile_url"] == 1


def test_a_stock_picture_shared_by_50_unrelated_accounts_merges_none_of_them():
    platform = PlatformFactory(slug="michat")
    owners = [account(f"stock{i}", platform=platform.slug) for i in range(50)]
    copies = [picture(owner) for owner in owners]
    for low, high in itertools.combinations(copies, 2):
        link(low, high, distance=2)
    # Two of them also share a picture of their own: that still joins them.
    link(picture(owners[0]), picture(owners[1]), distance=8)

    result = rings_rebuild()

    assert result.stock_pictures == 50
    assert stored_rings() == {(owners[0].pk, owners[0].pk, 2), (owners[1].pk, owners[0].pk, 2)}
    assert result.rings == 1


def test_a_number_held_by_more_accounts_than_the_cap_joins_none_of_them(settings):
    settings.RING_STOCK_PHONE_ACCOUNTS = 5
    for i in range(6):
        account(f"switchboard{i}", phones=["+6221500000"])
    pair = [account(f"pair{i}", phones=["+6281299990000"]) for i in range(2)]

    result = rings_rebuild()

    assert stored_rings() == {(a.pk, pair[0].pk, 2) for a in pair}
    assert result.stock_values == 1


def test_a_rebuild_is_idempotent_and_replaces_stale_rings():
    first, second = account("r1"), account("r2")
    links = link(picture(first), picture(second))
    loner = account("r3")
    AccountRing.objects.create(account=loner, ring=loner.pk, size=7, computed_at=timezone.now())

    rings_rebuild()
    once = stored_rings()
    rings_rebuild()

    assert stored_rings() == once == {(first.pk, first.pk, 2), (second.pk, first.pk, 2)}
    PictureLink.objects.filter(pk=links.pk).delete()
    assert rings_rebuild().rings == 0
    assert not AccountRing.objects.exists()


def test_a_long_chain_is_one_ring_without_recursion():
    platform = PlatformFactory(slug="michat")
    now = timezone.now()
    ChatAccount.objects.bulk_create(
        ChatAccount(
            platform=platform,
            identifier=f"chain{i}",
            identifier_kind="handle",
            phone_numbers=[f"+62811{i:07d}", f"+62811{i + 1:07d}"],
            first_reported_at=now,
            last_reported_at=now,
        )
        for i in range(3000)
    )

    result = rings_rebuild()

    assert (result.rings, result.largest) == (1, 3000)
    assert AccountRing.objects.values("ring").distinct().count() == 1


def test_the_command_prints_what_it_found():
    first, second = account("c1"), account("c2")
    link(picture(first), picture(second))
    out = io.StringIO()

    call_command("rings_rebuild", stdout=out)

    assert "1 rings of 2 accounts (largest 2)" in out.getvalue()
    assert "picture 1" in out.getvalue()
