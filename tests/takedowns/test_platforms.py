"""Operators' platforms: `configure_platform` and the admin create and change them, audited
without their secrets, and never show a secret in full."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Platform
from moderation.models import Case
from tests.support.takedowns import platform_for

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_configure_platform_creates_then_updates():
    out = run(
        "configure_platform",
        "lineapp",
        "--endpoint",
        "https://ops.line.example/takedown",
        "--name",
        "LINE",
    )
    platform = Platform.objects.get(slug="lineapp")
    assert "Created platform lineapp" in out
    assert f"signing_secret: {platform.signing_secret}" in out  # generated, printed once
    old_secret = platform.signing_secret
    out = run("configure_platform", "lineapp", "--rate-limit", "2.5", "--inactive")
    platform.refresh_from_db()
    assert "Updated platform lineapp" in out
    assert (platform.rate_limit_per_second, platform.active) == (2.5, False)
    assert platform.signing_secret == old_secret
    assert "secret" not in out


def test_configure_platform_explains_bad_input():
    with pytest.raises(CommandError, match="does not exist yet: give --endpoint"):
        run("configure_platform", "newone")
    with pytest.raises(CommandError, match="endpoint_url"):
        run("configure_platform", "newone", "--endpoint", "not a url")
    with pytest.raises(CommandError, match="at least 32 characters"):
        run(
            "configure_platform",
            "newone",
            "--endpoint",
            "https://x.example/",
            "--signing-secret",
            "short",
        )
    with pytest.raises(CommandError, match="rate_limit_per_second"):
        run("configure_platform", "newone", "--endpoint", "https://x.example/", "--rate-limit", "0")
    assert not Platform.objects.filter(slug="newone").exists()


def test_configuring_a_platform_is_audited_without_its_secrets():
    from moderation.models import AuditEvent

    run("configure_platform", "lineapp", "--endpoint", "https://ops.line.example/takedown")
    platform = Platform.objects.get(slug="lineapp")
    created = AuditEvent.objects.get(action="platform.created")
    assert created.subject_id == str(platform.pk)
    assert created.data["secrets_rotated"] == ["callback_secret", "signing_secret"]
    new_secret = "n" * 40
    run("configure_platform", "lineapp", "--signing-secret", new_secret, "--rate-limit", "3")
    changed = AuditEvent.objects.get(action="platform.changed")
    assert changed.data["after"] == {"rate_limit_per_second": 3.0}
    assert changed.data["before"] == {"rate_limit_per_second": 5.0}
    assert changed.data["secrets_rotated"] == ["signing_secret"]
    for event in AuditEvent.objects.all():
        text = str(event.data)
        assert platform.callback_secret not in text and new_secret not in text
    run("configure_platform", "lineapp", "--rate-limit", "3")  # no change, no event
    assert AuditEvent.objects.filter(action__startswith="platform.").count() == 2


def test_a_platform_changed_in_the_admin_is_audited(client_for, administrator):
    from moderation.models import AuditEvent
    from tests.support.factories import PlatformFactory

    platform = PlatformFactory(slug="michat", rate_limit_per_second=5.0)
    response = client_for(administrator).post(
        f"/admin/accounts/platform/{platform.pk}/change/",
        {
            "slug": platform.slug,
            "name": platform.name,
            "endpoint_url": "https://operator.example/takedowns",
            "signing_secret": "",  # left empty: the secret is kept, not rotated
            "callback_secret": "",
            "profile_url_pattern": "",
            "active": "on",
            "rate_limit_per_second": "7.5",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="platform.changed")
    assert event.actor_label == administrator.username
    assert event.data["after"] == {
        "endpoint_url": "https://operator.example/takedowns",
        "rate_limit_per_second": 7.5,
    }
    assert event.data["secrets_rotated"] == []


# --- the platform admin ----------------------------------------------------------------------


def test_the_platform_admin_never_shows_a_secret_in_full(client_for, administrator):
    platform = platform_for(None)
    administrator.is_superuser = True
    administrator.save(update_fields=["is_superuser"])
    client = client_for(administrator)
    page = client.get(f"/admin/accounts/platform/{platform.pk}/change/").content.decode()
    assert platform.signing_secret not in page
    assert platform.callback_secret not in page
    assert "(44 characters)" in page or "characters)" in page
    listing = client.get("/admin/accounts/platform/").content.decode()
    assert platform.signing_secret not in listing
    # Saving without new secrets keeps the old ones.
    response = client.post(
        f"/admin/accounts/platform/{platform.pk}/change/",
        {
            "slug": platform.slug,
            "name": "MiChat",
            "endpoint_url": "https://operator.example/takedowns",
            "signing_secret": "",
            "callback_secret": "",
            "profile_url_pattern": "",
            "active": "on",
            "rate_limit_per_second": "7.5",
        },
    )
    assert response.status_code == 302
    before = platform.signing_secret
    platform.refresh_from_db()
    assert platform.signing_secret == before and platform.rate_limit_per_second == 7.5
    assert Case.objects.count() == 0
