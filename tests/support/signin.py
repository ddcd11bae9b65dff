"""Signing in for tests (tests/conftest.py's `client_for`, tests/support/browser.py): a
signed-in test client, the current TOTP code of a person's device or of a secret, and calling
the WSGI application inside a test's transaction. Nothing here is imported by the application."""

from __future__ import annotations

from importlib import import_module

import django_otp
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from signin.policy import (
    SESSION_EPOCH_KEY,
    SESSION_HAS_DEVICE_KEY,
    confirmed_device,
    current_epoch,
    two_factor_required,
)


def device_for(user) -> TOTPDevice:
    """The person's confirmed device, created (and confirmed) if they have none."""
    device = confirmed_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    return device


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current step's, or the next step's when the current
    one was used already (the device refuses a step twice and allows one step of drift)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.drift += device.last_t + 1 - totp.t()
    return f"{totp.token():0{device.digits}d}"


def signed_in_client(user) -> Client:
    user.refresh_from_db()
    client = Client()
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "signin.backends.StaffBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_EPOCH_KEY] = current_epoch(user)
    device = device_for(user) if two_factor_required(user) else confirmed_device(user)
    session[SESSION_HAS_DEVICE_KEY] = device is not None
    if device is not None:
        session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def code_for_secret(base32_secret: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app holding this base32 secret shows now (or a step on)."""
    from base64 import b32decode

    return f"{TOTP(b32decode(base32_secret), drift=steps_ahead).token():06d}"


class keep_test_connection:
    """Call the WSGI application directly inside a test's transaction: Django closes the
    database connection at the end of every request, which would end the test's transaction;
    its own test client switches that off the same way."""

    def __enter__(self):
        from django.core import signals
        from django.db import close_old_connections

        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        return self

    def __exit__(self, *exc):
        from django.core import signals
        from django.db import close_old_connections

        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        return False
