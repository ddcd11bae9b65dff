"""Getting someone back in takes two administrators (the rules issue): one asks for a sign-in
recovery in the admin, a second approves it, and only then does the person get a new password
and lose their authenticators. No administrator can set a password alone, so none can sign in
as a supervisor and approve takedowns in their name."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.roles import Role
from moderation.models import AuditEvent
from signin.models import SignInRecovery
from tests.support.factories import PASSWORD, UserFactory
from tests.support.signin import device_for

pytestmark = pytest.mark.django_db

RECOVERIES = "/admin/signin/signinrecovery/"


@pytest.fixture
def second_administrator(db):
    return UserFactory(username="admin2", is_staff=True, roles=[Role.ADMINISTRATOR])


@pytest.fixture
def dewi(db):
    """A supervisor who lost her phone."""
    person = UserFactory(username="dewi", roles=[Role.SUPERVISOR])
    device_for(person)
    return person


def _ask(client, person) -> SignInRecovery:
    response = client.post(
        RECOVERIES + "add/", {"user": person.pk, "reason": "Lost her phone; called the desk."}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return SignInRecovery.objects.get(user=person)


def _approve(client, recovery):
    return client.post(RECOVERIES, {"action": "approve", "_selected_action": [recovery.pk]})


def _signs_in(username: str, password: str) -> bool:
    response = Client().post("/login/", {"username": username, "password": password})
    return response.status_code == 302


def test_an_administrator_cannot_set_someone_elses_password_in_the_admin(
    administrator, client_for, dewi
):
    client = client_for(administrator)
    url = f"/admin/auth/user/{dewi.pk}/password/"
    shown = client.get(url)
    assert shown.status_code == 302
    assert shown["Location"] == f"{RECOVERIES}add/?user={dewi.pk}"
    chosen = "chosen-by-admin-2026"
    posted = client.post(url, {"password1": chosen, "password2": chosen})
    assert posted.status_code == 302
    assert not _signs_in("dewi", chosen) and _signs_in("dewi", PASSWORD)


def test_a_recovery_asked_by_one_administrator_cannot_be_approved_by_them(
    administrator, client_for, dewi
):
    client = client_for(administrator)
    recovery = _ask(client, dewi)
    response = _approve(client, recovery)
    assert response.status_code == 302  # back to the list, with the refusal as a message
    recovery.refresh_from_db()
    assert recovery.status == "pending"
    assert _signs_in("dewi", PASSWORD)  # nothing changed: same password,
    assert TOTPDevice.objects.filter(user=dewi).count() == 1  # same authenticator
    assert "auth.recovery_approved" not in AuditEvent.objects.values_list("action", flat=True)


def test_a_second_administrator_approves_and_the_person_gets_in_with_a_new_password_once(
    administrator, second_administrator, client_for, dewi
):
    assert _signs_in("dewi", PASSWORD)
    recovery = _ask(client_for(administrator), dewi)
    approver = client_for(second_administrator)
    response = _approve(approver, recovery)
    assert response.status_code == 302
    assert response["Location"] == RECOVERIES + "approved/"
    page = approver.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    password = page.context["recovered"]["password"]
    assert f'<code class="recovery-password">{password}</code>' in page.content.decode()
    assert "already shown" in approver.get(RECOVERIES + "approved/").content.decode()
    recovery.refresh_from_db()
    assert (recovery.status, recovery.decided_by) == ("approved", second_administrator)
    assert not TOTPDevice.objects.filter(user=dewi).exists()
    assert not _signs_in("dewi", PASSWORD) and _signs_in("dewi", password)
    signed_in = Client()
    signed_in.post("/login/", {"username": "dewi", "password": password})
    assert "/account/two-factor/enrol/" in signed_in.get("/approvals/")["Location"]
    actions = list(
        AuditEvent.objects.filter(subject_id=str(dewi.pk)).values_list("action", flat=True)
    )
    assert "auth.recovery_requested" in actions and "auth.recovery_approved" in actions


def test_nobody_asks_to_recover_their_own_sign_in(administrator, client_for):
    response = client_for(administrator).post(
        RECOVERIES + "add/", {"user": administrator.pk, "reason": "I forgot."}
    )
    assert response.status_code == 200
    assert "Nobody recovers their own sign-in" in response.content.decode()
    assert not SignInRecovery.objects.exists()


def test_the_database_refuses_a_recovery_approved_by_the_one_who_asked(administrator, dewi):
    recovery = SignInRecovery.objects.create(user=dewi, reason="x", requested_by=administrator)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignInRecovery.objects.filter(pk=recovery.pk).update(
            status="approved", decided_by=administrator
        )


def test_a_cancelled_recovery_cannot_be_approved(
    administrator, second_administrator, client_for, dewi
):
    recovery = _ask(client_for(administrator), dewi)
    approver = client_for(second_administrator)
    approver.post(RECOVERIES, {"action": "cancel", "_selected_action": [recovery.pk]})
    _approve(approver, recovery)
    recovery.refresh_from_db()
    assert recovery.status == "cancelled" and _signs_in("dewi", PASSWORD)
