"""Operators' secrets are encrypted at rest with keys from the environment, and the key is
rotated without downtime (config/secretbox.py, `manage.py rotate_platform_secrets`)."""

from __future__ import annotations

import hashlib
import importlib
import io
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from accounts import signing
from accounts.models import Platform
from config import secretbox
from moderation.models import AuditEvent
from tests.support.factories import PlatformFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(platform: Platform) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT signing_secret, callback_secret FROM accounts_platform WHERE id = %s",
            [platform.pk],
        )
        return cursor.fetchone()


def opens_with(key: str, token: str) -> str:
    return Fernet(key.encode()).decrypt(token.removeprefix(secretbox.PREFIX).encode()).decode()


@override_settings(PLATFORM_SECRET_KEYS=[OLD])
def test_the_table_holds_tokens_and_the_model_the_secrets():
    platform = PlatformFactory(signing_secret="s" * 40, callback_secret="c" * 40)
    signing_token, callback_token = stored(platform)
    assert signing_token.startswith("fernet:") and "s" * 40 not in signing_token
    assert opens_with(OLD, signing_token) == "s" * 40
    assert opens_with(OLD, callback_token) == "c" * 40
    fresh = Platform.objects.get(pk=platform.pk)
    assert (fresh.signing_secret, fresh.callback_secret) == ("s" * 40, "c" * 40)
    assert Platform.objects.values_list("signing_secret", flat=True).get(pk=platform.pk) == (
        "s" * 40
    )
    # What is signed with it is what the operator, who knows the secret, checks.
    headers = signing.signed_headers(fresh.signing_secret, b"{}")
    assert (
        signing.verify(
            "s" * 40,
            timestamp=headers[signing.TIMESTAMP_HEADER],
            signature=headers[signing.SIGNATURE_HEADER],
            body=b"{}",
        )
        is None
    )


def test_a_key_is_rotated_without_downtime_and_audited():
    with override_settings(PLATFORM_SECRET_KEYS=[OLD]):
        platform = PlatformFactory(signing_secret="s" * 40, callback_secret="c" * 40)
    # 1. The new key goes first; processes read secrets under either key meanwhile.
    with override_settings(PLATFORM_SECRET_KEYS=[NEW, OLD]):
        assert Platform.objects.get(pk=platform.pk).signing_secret == "s" * 40
        # 2. Re-encrypt everything under the new key.
        out = io.StringIO()
        call_command("rotate_platform_secrets", stdout=out)
        assert "Re-encrypted the secrets of 1 platform(s)" in out.getvalue()
    signing_token, callback_token = stored(platform)
    assert opens_with(NEW, signing_token) == "s" * 40
    assert opens_with(NEW, callback_token) == "c" * 40
    event = AuditEvent.objects.get(action="platform.secrets_reencrypted")
    assert event.subject_id == str(platform.pk) and event.actor_kind == "system"
    assert "s" * 40 not in str(event.data)
    assert event.data["key"] == hashlib.sha256(NEW.encode()).hexdigest()[:16]
    # 3. The old key is dropped: everything still reads.
    with override_settings(PLATFORM_SECRET_KEYS=[NEW]):
        fresh = Platform.objects.get(pk=platform.pk)
        assert (fresh.signing_secret, fresh.callback_secret) == ("s" * 40, "c" * 40)


def test_dropping_a_key_before_re_encrypting_is_a_clear_error_and_changes_nothing():
    with override_settings(PLATFORM_SECRET_KEYS=[OLD]):
        platform = PlatformFactory()
    before = stored(platform)
    with override_settings(PLATFORM_SECRET_KEYS=[NEW]):
        with pytest.raises(ImproperlyConfigured, match="PLATFORM_SECRET_KEYS"):
            Platform.objects.get(pk=platform.pk)
        with pytest.raises(CommandError, match="rotate_platform_secrets"):
            call_command("rotate_platform_secrets", stdout=io.StringIO())
    assert stored(platform) == before
    assert not AuditEvent.objects.filter(action="platform.secrets_reencrypted").exists()


def test_a_key_that_is_not_a_fernet_key_is_refused_by_name():
    with (
        override_settings(PLATFORM_SECRET_KEYS=["not-a-key"]),
        pytest.raises(ImproperlyConfigured, match="Key 1 of PLATFORM_SECRET_KEYS"),
    ):
        secretbox.seal("x")


def test_the_migration_encrypts_secrets_stored_in_clear_and_reads_refuse_clear_ones():
    platform = PlatformFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_platform SET signing_secret = %s, callback_secret = %s WHERE id = %s",
            ["clear-signing-" * 3, "clear-callback-" * 3, platform.pk],
        )
    with pytest.raises(ImproperlyConfigured, match="unencrypted"):
        Platform.objects.get(pk=platform.pk)
    migration = importlib.import_module("accounts.migrations.0003_platform_secrets_encrypted")
    migration.encrypt(None, SimpleNamespace(connection=connection))
    assert all(secretbox.is_sealed(value) for value in stored(platform))
    fresh = Platform.objects.get(pk=platform.pk)
    assert (fresh.signing_secret, fresh.callback_secret) == (
        "clear-signing-" * 3,
        "clear-callback-" * 3,
    )
    migration.encrypt(None, SimpleNamespace(connection=connection))  # idempotent
    assert Platform.objects.get(pk=platform.pk).signing_secret == "clear-signing-" * 3
