"""The account page's timeline shows the owner's objection (received, decided) and the
restoration (requested, confirmed by the operator) to those who may read them (issue 18)."""

from __future__ import annotations

import json

import pytest

from accounts import signing
from config.roles import Role
from moderation.models import RestoreRequest
from moderation.objections import objection_decide
from moderation.takedowns import services as takedowns
from tests.support.factories import UserFactory
from tests.support.objections import carried_out, objected
from tests.support.takedowns import platform_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def restored(moderator, supervisor):
    """A takedown whose owner objected; a fresh supervisor granted it and the operator
    confirmed the restoration with its signed callback."""
    platform = platform_for()
    takedown = carried_out(moderator=moderator, supervisor=supervisor, platform=platform)
    objection = objected(takedown, statement="Ini akun toko batik saya.", reference="op-obj-9")
    objection = objection_decide(
        objection_id=objection.pk,
        supervisor=UserFactory(username="supervisor2", roles=[Role.SUPERVISOR]),
        outcome="granted",
        reason="Namesake: a batik shop, not the advertiser.",
    )
    restore = RestoreRequest.objects.get(objection=objection)
    body = json.dumps({"request_id": str(restore.pk), "status": "restored"}).encode()
    result = takedowns.takedown_callback(
        platform_slug=platform.slug,
        headers=signing.signed_headers(platform.callback_secret, body),
        body=body,
    )
    assert result.http_status == 200, result.body
    return objection, restore


def test_a_supervisor_sees_the_objection_and_the_restoration_in_order(
    restored, client_for, supervisor
):
    objection, restore = restored
    page = client_for(supervisor).get(f"/accounts/{objection.account_id}/").content.decode()
    received = page.index(f"Objection {objection.receipt_code} received")
    decided = page.index(f"Objection {objection.receipt_code} decided by supervisor2")
    requested = page.index(f"Restore request {restore.pk} issued to")
    confirmed = page.index("Operator reported: Restored")
    assert received < decided < requested < confirmed
    assert "Namesake: a batik shop, not the advertiser." in page
    assert f'href="/objections/{objection.pk}/"' in page
    assert "Cleared" in page  # the account's status after the restoration
    for label in ("Objection received", "Objection granted", "Restored by the operator"):
        assert label in page, label  # their audit events


def test_an_auditor_reads_the_same_timeline(restored, client_for, auditor):
    objection, restore = restored
    page = client_for(auditor).get(f"/accounts/{objection.account_id}/").content.decode()
    assert f"Objection {objection.receipt_code} decided by supervisor2" in page
    assert f"Restore request {restore.pk} issued to" in page


def test_a_moderator_sees_neither_the_objection_nor_the_restoration(
    restored, client_for, moderator
):
    objection, restore = restored
    page = client_for(moderator).get(f"/accounts/{objection.account_id}/").content.decode()
    for hidden in (
        objection.receipt_code,
        "Namesake: a batik shop",
        str(restore.pk),
        "Objection granted",  # the audit events' labels
        "Restored by the operator",
    ):
        assert hidden not in page, hidden
