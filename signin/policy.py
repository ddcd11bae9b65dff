"""Who must use a second factor, and the small facts about a person's devices."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from config.roles import Role, has_role

# DESIGN.md: supervisors approve takedowns, administrators manage people and tokens, and
# auditors read and export everything, public reporters' contact details included.
TWO_FACTOR_ROLES = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)

# Session keys written at sign-in (signin.services) and read by signin.middleware.
SESSION_EPOCH_KEY = "signin_epoch"
SESSION_HAS_DEVICE_KEY = "signin_has_device"
SESSION_PENDING_KEY = "signin_pending_totp_key"
SESSION_STARTED_KEY = "signin_started_at"  # epoch seconds of the sign-in: absolute lifetime
SESSION_ACTIVE_KEY = "signin_active_at"  # of the person's last request that was not a poll

# Sent by the page's timed requests (static/js/saring.js): a poll is not a person at work, so
# it neither keeps a session alive nor renews a claim.
POLL_HEADER = "X-Saring-Poll"


def is_poll(request) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


def two_factor_required(user) -> bool:
    return has_role(user, *TWO_FACTOR_ROLES)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def current_epoch(user) -> int:
    try:
        return user.signin_epoch.epoch
    except user._meta.model.signin_epoch.RelatedObjectDoesNotExist:
        return 0
