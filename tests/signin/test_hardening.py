"""Sign-in hardening (issue 7): lockout with cool-off, two-factor for supervisors and
administrators before any page, enrolment, removal, sign out everywhere, session expiry,
password rules, and the audit events of each."""

from __future__ import annotations

import re
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.roles import Role
from moderation.models import AuditEvent
from tests.support.factories import PASSWORD, UserFactory
from tests.support.signin import code_for_secret, device_for, totp_code

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


# --- Lockout ---------------------------------------------------------------------------------


def test_it_locks_out_a_username_after_repeated_failures_with_a_clear_message(settings):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "dewi", "wrong-password")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    response = sign_in(client, "dewi", "wrong-password")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    # Even the right password is refused while locked out, with the same page, never a 500.
    response = sign_in(client, "dewi")
    assert response.status_code == 429
    assert b"Try again in 15 minutes" in response.content
    assert "_auth_user_id" not in client.session
    assert actions().count("auth.signin_failed") >= settings.AXES_FAILURE_LIMIT
    assert "auth.locked_out" in actions()
    locked = AuditEvent.objects.filter(action="auth.locked_out").first()
    assert locked.actor_label == "unauthenticated:dewi"
    assert locked.ip_address == "127.0.0.1"


def test_it_locks_out_an_address_that_guesses_many_usernames(settings):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    client = Client()
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"nobody{number}", "wrong-password")
    response = sign_in(client, "dewi")
    assert response.status_code == 429


def test_a_stranger_guessing_on_a_username_cannot_lock_its_owner_out(settings):
    UserFactory(username="dewi", roles=[Role.SUPERVISOR])
    UserFactory(username="budi", roles=[Role.MODERATOR])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(REMOTE_ADDR="203.0.113.9"), "dewi", "wrong-password")
    assert sign_in(Client(REMOTE_ADDR="203.0.113.9"), "dewi").status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.1.2.3"), "budi").status_code == 302
    assert sign_in(Client(REMOTE_ADDR="10.1.2.4"), "dewi").status_code == 302  # dewi, at work


def test_the_lockout_lifts_after_the_cool_off(settings):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "dewi", "wrong-password")
    assert sign_in(client, "dewi").status_code == 429
    # The failures age past the cool-off, as they would after 15 minutes.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME)
    response = sign_in(client, "dewi")
    assert response.status_code == 302
    assert client.get("/queue/").status_code == 200


def test_a_right_sign_in_is_audited_with_the_address():
    user = UserFactory(username="dewi", roles=[Role.MODERATOR])
    sign_in(Client(REMOTE_ADDR="10.9.8.7"), "dewi")
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert (event.actor_user_id, event.ip_address) == (user.pk, "10.9.8.7")
    assert event.data == {"second_factor": "not_required"}


# --- Two-factor required for supervisors, auditors and administrators -----------------------


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR])
def test_a_supervisor_auditor_or_administrator_reaches_no_page_before_the_second_factor(role):
    UserFactory(username="siti", is_staff=True, roles=[role])
    client = Client()
    response = sign_in(client, "siti")
    assert response.status_code == 302
    for path in ["/", "/queue/", "/supervision/", "/audit/", "/admin/", "/account/", "/api/docs/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/enrol/"), path
    assert client.get("/account/two-factor/enrol/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/queue/")["Location"].startswith("/login/")


def test_a_supervisor_with_a_device_is_asked_for_a_code_and_then_gets_in(supervisor):
    device = device_for(supervisor)
    client = Client()
    sign_in(client, "supervisor")
    response = client.get("/supervision/")
    assert response["Location"] == "/account/two-factor/?next=%2Fsupervision%2F"
    response = client.post("/account/two-factor/", {"token": "000000", "next": "/supervision/"})
    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert client.get("/supervision/").status_code == 302
    # django-otp makes the device wait after a wrong code; time passes.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    before = client.session.session_key
    response = client.post(
        "/account/two-factor/", {"token": totp_code(device), "next": "/supervision/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/supervision/"
    assert client.session.session_key != before  # a new session id after the second factor
    assert client.get("/supervision/").status_code == 200
    assert {"auth.signed_in", "auth.2fa_failed", "auth.2fa_verified"} <= set(actions())


def test_a_code_is_good_only_once(supervisor):
    device = device_for(supervisor)
    first, second = Client(), Client()
    sign_in(first, "supervisor")
    sign_in(second, "supervisor")
    device.refresh_from_db()
    code = totp_code(device)
    assert first.post("/account/two-factor/", {"token": code}).status_code == 302
    assert second.post("/account/two-factor/", {"token": code}).status_code == 400


def test_one_wrong_code_does_not_throttle_the_right_code_typed_next(supervisor):
    device = device_for(supervisor)
    client = Client()
    sign_in(client, "supervisor")
    assert client.post("/account/two-factor/", {"token": "000000"}).status_code == 400
    response = client.post("/account/two-factor/", {"token": totp_code(device)})
    assert response.status_code == 302


def test_repeated_wrong_codes_are_throttled_and_the_message_says_how_long_to_wait(supervisor):
    device = device_for(supervisor)
    client = Client()
    sign_in(client, "supervisor")
    for _attempt in range(3):
        client.post("/account/two-factor/", {"token": "000000"})
    response = client.post("/account/two-factor/", {"token": totp_code(device)})
    assert response.status_code == 429
    # The third wrong code in a row starts django-otp's back-off at 4 seconds.
    assert re.search(rb"Too many wrong codes\. Try again in [1-4] seconds?\.", response.content)


def test_a_moderator_needs_no_second_factor_unless_they_enrolled(moderator):
    client = Client()
    sign_in(client, "moderator")
    assert client.get("/queue/").status_code == 200
    device = device_for(moderator)
    client = Client()
    sign_in(client, "moderator")
    assert client.get("/queue/")["Location"].startswith("/account/two-factor/")
    client.post("/account/two-factor/", {"token": totp_code(device)})
    assert client.get("/queue/").status_code == 200


# --- Enrolment, removal, reset ---------------------------------------------------------------


def secret_on(page: bytes) -> str:
    text = page.decode()
    return text.split('data-secret="', 1)[1].split('"', 1)[0]


def test_a_supervisor_enrols_by_qr_code_and_confirms_with_a_code():
    user = UserFactory(username="siti", roles=[Role.SUPERVISOR])
    client = Client()
    sign_in(client, "siti")
    page = client.get("/account/two-factor/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b"qr-code" in page.content
    assert b"<script" not in page.content.split(b"<main", 1)[1]
    assert b"data:" not in page.content
    secret = secret_on(page.content)
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing until confirmed
    response = client.post("/account/two-factor/enrol/", {"token": "123456"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert secret_on(response.content) == secret  # the same secret until it is confirmed
    response = client.post("/account/two-factor/enrol/", {"token": code_for_secret(secret)})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert client.get("/supervision/").status_code == 200
    assert [a for a in actions() if a.startswith("auth.2fa")] == [
        "auth.2fa_enrolment_failed",
        "auth.2fa_enrolled",
    ]


def test_the_enrolment_secret_is_dropped_after_repeated_wrong_codes():
    UserFactory(username="siti", roles=[Role.SUPERVISOR])
    client = Client()
    sign_in(client, "siti")
    secret = secret_on(client.get("/account/two-factor/enrol/").content)
    for _ in range(5):
        client.post("/account/two-factor/enrol/", {"token": "123456"})
    assert secret_on(client.get("/account/two-factor/enrol/").content) != secret


def test_a_moderator_may_enrol_from_the_account_page(moderator):
    client = Client()
    sign_in(client, "moderator")
    account = client.get("/account/")
    assert b"Set up two-factor sign-in" in account.content
    secret = secret_on(client.get("/account/two-factor/enrol/").content)
    client.post("/account/two-factor/enrol/", {"token": code_for_secret(secret)})
    assert TOTPDevice.objects.filter(user=moderator, confirmed=True).exists()
    assert b"Turn off" in client.get("/account/").content


def test_the_owner_removes_their_device_only_with_a_code(client_for, moderator):
    device = device_for(moderator)
    client = client_for(moderator)
    response = client.post("/account/two-factor/remove/", {"token": "000000"}, follow=True)
    assert b"two-factor sign-in stays on" in response.content
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    client.post("/account/two-factor/remove/", {"token": totp_code(device)})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    removed = AuditEvent.objects.get(action="auth.2fa_removed")
    assert removed.data["by_owner"] is True


def test_a_supervisor_who_resets_must_enrol_again(client_for, supervisor):
    client = client_for(supervisor)
    device = device_for(supervisor)
    response = client.post("/account/two-factor/remove/", {"token": totp_code(device)})
    assert response["Location"] == "/account/two-factor/enrol/"
    assert client.get("/queue/")["Location"].startswith("/account/two-factor/enrol/")


def test_an_administrator_resets_someones_device_in_the_admin(client_for, administrator):
    supervisor = UserFactory(username="siti", roles=[Role.SUPERVISOR])
    device = device_for(supervisor)
    client = client_for(administrator)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action="auth.2fa_removed")
    assert (event.actor_user_id, event.subject_id) == (administrator.pk, str(supervisor.pk))
    assert event.data["by_owner"] is False


def test_a_role_change_in_the_admin_is_audited(client_for, administrator):
    user = UserFactory(username="budi", roles=[Role.MODERATOR])
    supervisors = Group.objects.get(staff_role__key=Role.SUPERVISOR.value)
    client = client_for(administrator)
    page = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert page.status_code == 200
    data = {
        "username": "budi",
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "groups": [supervisors.pk],
        "_save": "Save",
    }
    response = client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="staff.roles_changed")
    assert event.actor_user_id == administrator.pk
    assert event.data["before"]["groups"] == [Role.MODERATOR.value]
    assert event.data["after"]["groups"] == [Role.SUPERVISOR.value]


# --- Sessions ------------------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_that_person_only(moderator, moderator2):
    laptop, phone, colleague = Client(), Client(), Client()
    sign_in(laptop, "moderator")
    sign_in(phone, "moderator")
    sign_in(colleague, "moderator2")
    assert phone.get("/queue/").status_code == 200
    response = laptop.post("/account/sign-out-everywhere/")
    assert response["Location"] == "/login/"
    assert laptop.get("/queue/")["Location"].startswith("/login/")
    assert phone.get("/queue/")["Location"].startswith("/login/")
    assert colleague.get("/queue/").status_code == 200
    assert "auth.signed_out_everywhere" in actions()
    # Signing in again afterwards works as usual.
    sign_in(phone, "moderator")
    assert phone.get("/queue/").status_code == 200


def _age_session(client, **seconds_ago) -> None:
    """Move the session's sign-in and last-activity marks into the past, as time would."""
    from django.contrib.sessions.backends.db import SessionStore

    from signin.policy import SESSION_ACTIVE_KEY, SESSION_STARTED_KEY

    store = SessionStore(session_key=client.session.session_key)
    now = int(time.time())
    keys = {"started": SESSION_STARTED_KEY, "active": SESSION_ACTIVE_KEY}
    for name, ago in seconds_ago.items():
        store[keys[name]] = now - ago
    store.save()


def test_a_session_ends_after_idle_time_and_a_request_by_the_person_renews_it(settings, moderator):
    client = Client()
    sign_in(client, "moderator")
    idle = settings.SESSION_IDLE_SECONDS
    _age_session(client, active=idle - 60)
    assert client.get("/queue/").status_code == 200  # a person's request: active again
    _age_session(client, started=idle)  # (the activity mark is the one just set)
    assert client.get("/queue/").status_code == 200
    _age_session(client, active=idle + 1)
    assert client.get("/queue/")["Location"].startswith("/login/")
    event = AuditEvent.objects.filter(action="auth.signed_out").latest("sequence")
    assert event.data == {"reason": "idle"}


def test_polls_do_not_keep_an_unattended_session_alive(settings, moderator):
    client = Client()
    sign_in(client, "moderator")
    idle = settings.SESSION_IDLE_SECONDS
    poll = {
        "HX-Request": "true",
        "X-Saring-Poll": "1",
        "HX-Current-URL": "http://testserver/queue/?platform=michat",
    }
    _age_session(client, active=idle - 60)
    assert client.get("/queue/counts/", headers=poll).status_code == 200
    _age_session(client, active=idle + 1)  # only polls for the whole idle time
    response = client.get("/queue/counts/", headers=poll)
    assert response.status_code == 204
    # The page goes to the sign-in page, and comes back to itself, not to the poll.
    assert response["HX-Redirect"] == "/login/?next=/queue/%3Fplatform%3Dmichat"
    assert client.get("/queue/")["Location"].startswith("/login/")


def test_a_busy_session_still_ends_at_its_absolute_lifetime(settings, moderator):
    client = Client()
    sign_in(client, "moderator")
    assert settings.SESSION_LIFETIME_SECONDS == 12 * 60 * 60
    _age_session(client, started=settings.SESSION_LIFETIME_SECONDS - 60, active=5)
    assert client.get("/queue/").status_code == 200
    _age_session(client, started=settings.SESSION_LIFETIME_SECONDS + 1, active=5)
    assert client.get("/queue/")["Location"].startswith("/login/")
    event = AuditEvent.objects.filter(action="auth.signed_out").latest("sequence")
    assert event.data == {"reason": "lifetime"}


def test_the_password_change_page_applies_the_password_rules(client_for, moderator):
    client = client_for(moderator)
    assert client.get("/account/password/").status_code == 200
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 400
    assert b"at least 12 characters" in response.content
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "12345678901234",
            "new_password2": "12345678901234",
        },
    )
    assert b"entirely numeric" in response.content
    new = "lantern-mango-orbit-7"
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert client.get("/queue/").status_code == 200  # this session stays
    assert "auth.password_changed" in actions()
    assert sign_in(Client(), "moderator", new).status_code == 302


def test_failures_count_against_the_forwarded_address_only_behind_a_proxy(settings):
    from django.test import RequestFactory

    from signin.services import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.SARING_PROXY_HOPS = 0
    assert client_ip(request) == "10.0.0.1"  # a forged header counts for nothing
    settings.SARING_PROXY_HOPS = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy saw, not what was claimed
