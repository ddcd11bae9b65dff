"""Phone numbers written in a report's text are "phone numbers found" on the account
(DESIGN.md "ChatAccount"): a MiChat ad saying "WA 0812-…" links to the WhatsApp account of
that number (issue 17, rings)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.identifiers import PHONES_IN_TEXT_MAX, phones_in_text
from accounts.models import ChatAccount
from tests.support.factories import PlatformFactory
from tests.support.intake import report_body

pytestmark = pytest.mark.django_db


def post(token: str, body: dict):
    return Client().post(
        "/api/v1/reports/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Open BO, WA 0812-3456-7788 ya", ("+6281234567788",)),
        ("hubungi +62 812 3456 7788 / 081234567788", ("+6281234567788",)),
        ("wa.me/6281298765432 fast respon", ("+6281298765432",)),
        ("tarif 300000, 2 jam, kamar 0812345", ()),
        ("", ()),
    ],
)
def test_phones_in_text_finds_each_valid_number_once_as_e164(text, found):
    assert phones_in_text(text) == found


def test_phones_in_text_takes_at_most_the_limit_from_a_pasted_list():
    numbers = " ".join(f"0812-3456-77{n:02d}" for n in range(PHONES_IN_TEXT_MAX + 4))
    assert len(phones_in_text(numbers)) == PHONES_IN_TEXT_MAX


def test_a_handle_account_gets_the_numbers_its_reports_mention(ministry_token):
    _, token = ministry_token
    body = report_body(
        "R-1",
        account={"identifier": "@bella.dps", "display_name": "Bella WA 0812 3456 7788"},
        description="Open BO Denpasar, DP via WA 0812-3456-7788 atau +62 813 1111 2222.",
    )
    assert post(token, body).status_code == 201
    account = ChatAccount.objects.get(identifier="bella.dps")
    assert account.phone_numbers == ["+6281234567788", "+6281311112222"]
    again = report_body(
        "R-2", account={"identifier": "@bella.dps"}, description="Ganti nomor: 0857 4444 5555"
    )
    assert post(token, again).status_code == 201
    account.refresh_from_db()
    assert account.phone_numbers == ["+6281234567788", "+6281311112222", "+6285744445555"]


def test_a_number_in_a_michat_ad_links_it_to_the_whatsapp_account_of_that_number(ministry_token):
    _, token = ministry_token
    PlatformFactory(slug="whatsapp", name="WhatsApp")
    michat = report_body(
        "R-1", account={"identifier": "@bella.dps"}, description="Open BO, WA 0812-3456-7788"
    )
    whatsapp = report_body("R-2", platform="whatsapp", account={"identifier": "081234567788"})
    assert post(token, michat).status_code == 201
    assert post(token, whatsapp).status_code == 201
    linked = ChatAccount.objects.filter(phone_numbers__overlap=["+6281234567788"])
    assert sorted(a.platform.slug for a in linked) == ["michat", "whatsapp"]
