"""Sign-in writes: sign-ins and failures, lockouts, two-factor enrolment, verification and
removal, signing out everywhere, password and role changes. Each writes its audit event in
the same transaction as the change it records (moderation.audit.services.chain)."""

from __future__ import annotations

import time
from binascii import unhexlify

import django_otp
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from config.http import client_ip
from moderation.audit import Actor, audit_record
from signin.models import SessionEpoch
from signin.policy import (
    SESSION_ACTIVE_KEY,
    SESSION_EPOCH_KEY,
    SESSION_HAS_DEVICE_KEY,
    SESSION_PENDING_KEY,
    SESSION_STARTED_KEY,
    confirmed_device,
    current_epoch,
    two_factor_required,
)

# A fresh secret is needed after this many wrong codes at enrolment, so the six digits of a
# code that is never throttled by a device cannot be guessed at leisure.
ENROLMENT_ATTEMPTS = 5
SESSION_ENROLMENT_FAILURES_KEY = "signin_enrolment_failures"


def token_clean(token: str) -> str:
    return "".join((token or "").split())


# --- Sign-in and sign-out ------------------------------------------------------------------


def signin_succeeded(*, request: HttpRequest, user: AbstractBaseUser) -> None:
    """The password was right. The session remembers the person's epoch (signing out
    everywhere ends it) and whether a second factor is still owed."""
    device = confirmed_device(user)
    started = int(time.time())
    request.session[SESSION_STARTED_KEY] = started
    request.session[SESSION_ACTIVE_KEY] = started
    request.session[SESSION_EPOCH_KEY] = current_epoch(user)
    request.session[SESSION_HAS_DEVICE_KEY] = device is not None
    owed = device is not None or two_factor_required(user)
    audit_record(
        actor=Actor.staff(user),
        action="auth.signed_in",
        subject=user,
        subject_label=user.get_username(),
        data={"second_factor": "pending" if owed else "not_required"},
        ip_address=client_ip(request),
    )


def signin_failed(*, request: HttpRequest | None, username: str) -> None:
    audit_record(
        actor=Actor.anonymous(username),
        action="auth.signin_failed",
        data={"username": username[:150]},
        ip_address=client_ip(request),
    )


def signin_locked_out(*, request: HttpRequest | None, username: str) -> None:
    audit_record(
        actor=Actor.anonymous(username),
        action="auth.locked_out",
        data={"username": username[:150]},
        ip_address=client_ip(request),
    )


def signed_out(*, request: HttpRequest | None, user: AbstractBaseUser | None) -> None:
    """Recorded for every sign-out; `reason` says when the session ended by itself ("idle",
    "lifetime", set by signin.middleware) rather than by the person."""
    if user is None:
        return
    reason = getattr(request, "signout_reason", None)
    audit_record(
        actor=Actor.staff(user),
        action="auth.signed_out",
        subject=user,
        subject_label=user.get_username(),
        data={"reason": reason} if reason else None,
        ip_address=client_ip(request),
    )


def sessions_end_everywhere(*, request: HttpRequest, user: AbstractBaseUser) -> int:
    """Raise the person's session epoch: every session they hold ends at its next request."""
    with transaction.atomic():
        SessionEpoch.objects.get_or_create(user=user)
        SessionEpoch.objects.filter(pk=user.pk).update(epoch=F("epoch") + 1)
        epoch = SessionEpoch.objects.values_list("epoch", flat=True).get(pk=user.pk)
        audit_record(
            actor=Actor.staff(user),
            action="auth.signed_out_everywhere",
            subject=user,
            subject_label=user.get_username(),
            data={"before": {"epoch": epoch - 1}, "after": {"epoch": epoch}},
            ip_address=client_ip(request),
        )
    return epoch


def password_changed(*, request: HttpRequest, user: AbstractBaseUser) -> None:
    audit_record(
        actor=Actor.staff(user),
        action="auth.password_changed",
        subject=user,
        subject_label=user.get_username(),
        ip_address=client_ip(request),
    )


# --- Two-factor ------------------------------------------------------------------------------


def totp_pending_key(*, request: HttpRequest) -> str:
    """The secret being enrolled, kept in the session until a code confirms it: no device
    exists (and nothing is written) until the person proves their app holds the secret."""
    key = request.session.get(SESSION_PENDING_KEY)
    if not key:
        key = default_key()
        request.session[SESSION_PENDING_KEY] = key
        request.session[SESSION_ENROLMENT_FAILURES_KEY] = 0
    return key


def totp_enrolment_confirm(
    *, request: HttpRequest, user: AbstractBaseUser, token: str
) -> TOTPDevice | None:
    """Create the confirmed device when `token` matches the pending secret, and count this
    session as verified by it. None when the code is wrong (recorded)."""
    key = request.session.get(SESSION_PENDING_KEY)
    token = token_clean(token)
    totp = TOTP(unhexlify(key.encode()) if key else b"", step=30, t0=0, digits=6)
    if not key or not token.isdigit() or not totp.verify(int(token), tolerance=1):
        failures = request.session.get(SESSION_ENROLMENT_FAILURES_KEY, 0) + 1
        request.session[SESSION_ENROLMENT_FAILURES_KEY] = failures
        if failures >= ENROLMENT_ATTEMPTS:
            request.session.pop(SESSION_PENDING_KEY, None)
        audit_record(
            actor=Actor.staff(user),
            action="auth.2fa_enrolment_failed",
            subject=user,
            subject_label=user.get_username(),
            data={"failures": failures},
            ip_address=client_ip(request),
        )
        return None
    with transaction.atomic():
        # One authenticator per person: a new enrolment replaces any earlier device.
        replaced = list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True))
        TOTPDevice.objects.filter(pk__in=replaced).delete()
        device = TOTPDevice(
            user=user,
            name="Authenticator app",
            key=key,
            confirmed=True,
            last_t=totp.t(),
            drift=totp.drift,
        )
        device.full_clean()
        device.save()
        audit_record(
            actor=Actor.staff(user),
            action="auth.2fa_enrolled",
            subject=user,
            subject_label=user.get_username(),
            data={"device": device.persistent_id, "replaced": replaced},
            ip_address=client_ip(request),
        )
    request.session.pop(SESSION_PENDING_KEY, None)
    request.session.pop(SESSION_ENROLMENT_FAILURES_KEY, None)
    _mark_verified(request, device)
    return device


def totp_verify(*, request: HttpRequest, user: AbstractBaseUser, token: str) -> bool:
    """Check a code against the person's device; on success this session is verified."""
    device = confirmed_device(user)
    if device is None:
        return False
    verified = django_otp.verify_token(user, device.persistent_id, token_clean(token))
    if verified is None:
        audit_record(
            actor=Actor.staff(user),
            action="auth.2fa_failed",
            subject=user,
            subject_label=user.get_username(),
            ip_address=client_ip(request),
        )
        return False
    audit_record(
        actor=Actor.staff(user),
        action="auth.2fa_verified",
        subject=user,
        subject_label=user.get_username(),
        ip_address=client_ip(request),
    )
    _mark_verified(request, verified)
    return True


def totp_remove(
    *,
    request: HttpRequest | None,
    device: TOTPDevice,
    actor_user: AbstractBaseUser,
) -> None:
    """Remove a device: by its owner (after a code, see the view) or by an administrator."""
    owner = device.user
    with transaction.atomic():
        persistent_id = device.persistent_id
        device.delete()
        audit_record(
            actor=Actor.staff(actor_user),
            action="auth.2fa_removed",
            subject=owner,
            subject_label=owner.get_username(),
            data={"device": persistent_id, "by_owner": actor_user.pk == owner.pk},
            ip_address=client_ip(request),
        )
    if request is not None and actor_user.pk == owner.pk:
        request.session[SESSION_HAS_DEVICE_KEY] = False


def totp_device_added_by_admin(
    *, request: HttpRequest, device: TOTPDevice, actor_user: AbstractBaseUser
) -> None:
    audit_record(
        actor=Actor.staff(actor_user),
        action="auth.2fa_enrolled",
        subject=device.user,
        subject_label=device.user.get_username(),
        data={"device": device.persistent_id, "by_administrator": True},
        ip_address=client_ip(request),
    )


def _mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    django_otp.login(request, device)
    request.session[SESSION_HAS_DEVICE_KEY] = True
    # A new session id once the second factor is passed: an id seen before it is useless.
    request.session.cycle_key()


# --- Roles ---------------------------------------------------------------------------------


def staff_roles_changed(
    *,
    request: HttpRequest,
    actor_user: AbstractBaseUser,
    user: AbstractBaseUser,
    before: dict,
    after: dict,
) -> None:
    """An administrator changed someone's groups or flags (in the admin's transaction)."""
    audit_record(
        actor=Actor.staff(actor_user),
        action="staff.roles_changed",
        subject=user,
        subject_label=user.get_username(),
        data={"before": before, "after": after},
        ip_address=client_ip(request),
    )
