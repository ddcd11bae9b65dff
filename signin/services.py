"""Sign-in writes: sign-ins and failures, lockouts, two-factor enrolment, verification and
removal, signing out everywhere, password and role changes. Each writes its audit event in
the same transaction as the change it records (moderation.audit.services.chain)."""

from __future__ import annotations

import secrets
import time
from binascii import unhexlify

import django_otp
from axes.models import AccessAttempt
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from config.http import client_ip
from config.roles import Role, has_role
from moderation.audit import Actor, audit_record
from signin.models import SessionEpoch, SignInRecovery
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

# A person's first wrong codes in a row are not throttled: a typo, or a code typed as the app
# turned to the next one, must not lock out the right code that follows. From the next one on,
# django-otp's back-off applies (OTP_TOTP_THROTTLE_FACTOR: 4 s, 8 s, 16 s …).
UNTHROTTLED_WRONG_CODES = 2

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


def _epoch_raise(user: AbstractBaseUser) -> int:
    """Raise the person's session epoch (in the caller's transaction); the new value."""
    SessionEpoch.objects.get_or_create(user=user)
    SessionEpoch.objects.filter(pk=user.pk).update(epoch=F("epoch") + 1)
    return SessionEpoch.objects.values_list("epoch", flat=True).get(pk=user.pk)


def sessions_end_everywhere(*, request: HttpRequest, user: AbstractBaseUser) -> int:
    """Raise the person's session epoch: every session they hold ends at its next request."""
    with transaction.atomic():
        epoch = _epoch_raise(user)
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
        # The count stays (the back-off grows from it); only the first failures' wait is lifted.
        TOTPDevice.objects.filter(
            pk=device.pk, throttling_failure_count__lte=UNTHROTTLED_WRONG_CODES
        ).update(throttling_failure_timestamp=None)
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


def staff_details_changed(
    *,
    request: HttpRequest,
    actor_user: AbstractBaseUser,
    user: AbstractBaseUser,
    changed: dict,
) -> None:
    """An administrator changed someone's name, e-mail or username (in the admin's
    transaction); `changed` maps each field to its before and after."""
    audit_record(
        actor=Actor.staff(actor_user),
        action="staff.details_changed",
        subject=user,
        subject_label=user.get_username(),
        data={
            "before": {name: pair[0] for name, pair in changed.items()},
            "after": {name: pair[1] for name, pair in changed.items()},
        },
        ip_address=client_ip(request),
    )


def lockout_lifted(
    *, request: HttpRequest, actor_user: AbstractBaseUser, attempt: AccessAttempt
) -> None:
    """An administrator deleted a django-axes attempt record, lifting its lockout early."""
    audit_record(
        actor=Actor.staff(actor_user),
        action="auth.lockout_lifted",
        subject_label=str(attempt.username or "")[:150],
        data={
            "username": str(attempt.username or "")[:150],
            "address": attempt.ip_address,
            "failures": attempt.failures_since_start,
        },
        ip_address=client_ip(request),
    )


# --- Sign-in recovery: two administrators ------------------------------------------------------


class RecoveryRefused(Exception):
    """A recovery that may not be asked for or carried out; the message says why."""


def recovery_request(
    *, request: HttpRequest, actor_user: User, user: User, reason: str
) -> SignInRecovery:
    """An administrator asks to get `user` back in (lost password or authenticator). Nothing
    changes until a second administrator approves (`recovery_approve`)."""
    if not has_role(actor_user, Role.ADMINISTRATOR):
        raise RecoveryRefused(_("Only administrators ask for a sign-in recovery."))
    if actor_user.pk == user.pk:
        raise RecoveryRefused(
            _("Nobody recovers their own sign-in: ask another administrator to do it.")
        )
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise RecoveryRefused(_("Say why the person needs their sign-in recovered."))
    with transaction.atomic():
        recovery = SignInRecovery.objects.create(user=user, reason=reason, requested_by=actor_user)
        audit_record(
            actor=Actor.staff(actor_user),
            action="auth.recovery_requested",
            subject=user,
            subject_label=user.get_username(),
            data={"recovery": recovery.pk, "reason": reason},
            ip_address=client_ip(request),
        )
    return recovery


def recovery_approve(
    *, request: HttpRequest, actor_user: User, recovery_id: int
) -> tuple[SignInRecovery, str]:
    """A second administrator carries out a pending recovery: the person gets a new random
    password (returned, to be shown once and handed over), loses every authenticator (they
    enrol again at their next sign-in) and every session. Refused to the administrator who
    asked and to the person themselves; the database refuses it too
    (`signin_recovery_four_eyes`)."""
    if not has_role(actor_user, Role.ADMINISTRATOR):
        raise RecoveryRefused(_("Only administrators approve a sign-in recovery."))
    with transaction.atomic():
        try:
            recovery = (
                SignInRecovery.objects.select_for_update()
                .select_related("user", "requested_by")
                .get(pk=recovery_id)
            )
        except SignInRecovery.DoesNotExist as missing:
            raise RecoveryRefused(_("There is no such sign-in recovery.")) from missing
        if recovery.status != SignInRecovery.Status.PENDING:
            raise RecoveryRefused(_("This sign-in recovery was already decided."))
        if actor_user.pk in (recovery.requested_by_id, recovery.user_id):
            raise RecoveryRefused(
                _(
                    "A second administrator must approve this: not the one who asked for it, "
                    "nor the person recovered."
                )
            )
        user = recovery.user
        password = secrets.token_urlsafe(15)  # 20 characters
        user.set_password(password)
        user.save(update_fields=["password"])
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        epoch = _epoch_raise(user)
        recovery.status = SignInRecovery.Status.APPROVED
        recovery.decided_by = actor_user
        recovery.decided_at = timezone.now()
        recovery.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=Actor.staff(actor_user),
            action="auth.recovery_approved",
            subject=user,
            subject_label=user.get_username(),
            data={
                "recovery": recovery.pk,
                "requested_by": recovery.requested_by.get_username(),
                "password": "replaced",
                "devices_removed": removed,
                "after": {"epoch": epoch},
            },
            ip_address=client_ip(request),
        )
    return recovery, password


def recovery_cancel(*, request: HttpRequest, actor_user: User, recovery_id: int) -> SignInRecovery:
    """Any administrator may cancel a pending recovery (asked by mistake, or not genuine)."""
    if not has_role(actor_user, Role.ADMINISTRATOR):
        raise RecoveryRefused(_("Only administrators cancel a sign-in recovery."))
    with transaction.atomic():
        moved = SignInRecovery.objects.filter(
            pk=recovery_id, status=SignInRecovery.Status.PENDING
        ).update(
            status=SignInRecovery.Status.CANCELLED,
            decided_by=actor_user,
            decided_at=timezone.now(),
        )
        if not moved:
            raise RecoveryRefused(_("This sign-in recovery was already decided."))
        recovery = SignInRecovery.objects.select_related("user").get(pk=recovery_id)
        audit_record(
            actor=Actor.staff(actor_user),
            action="auth.recovery_cancelled",
            subject=recovery.user,
            subject_label=recovery.user.get_username(),
            data={"recovery": recovery.pk},
            ip_address=client_ip(request),
        )
    return recovery
