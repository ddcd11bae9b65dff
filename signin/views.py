from __future__ import annotations

import math
from datetime import datetime

import segno
from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from signin import services
from signin.forms import TokenForm
from signin.policy import (
    SESSION_HAS_DEVICE_KEY,
    confirmed_device,
    two_factor_required,
)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def _throttled_message(locked_until: datetime | None) -> str:
    if locked_until is None:
        return _("Too many wrong codes. Wait a minute and try again.")
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Try again in %(seconds)d second.",
        "Too many wrong codes. Try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the person's authenticator app."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = confirmed_device(request.user)
    if device is None:
        request.session[SESSION_HAS_DEVICE_KEY] = False
        if two_factor_required(request.user):
            return redirect("signin:enrol")
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        allowed, info = device.verify_is_allowed()
        if not allowed:
            form.add_error(None, _throttled_message((info or {}).get("locked_until")))
            status = 429
        elif services.totp_verify(
            request=request, user=request.user, token=form.cleaned_data["token"]
        ):
            return redirect(_next_url(request))
        else:
            form.add_error("token", _("That code is not right, or it was used already."))
            status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "account/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Scan a QR code (or type the key), then confirm with a code before it counts."""
    if confirmed_device(request.user) is not None:
        request.session[SESSION_HAS_DEVICE_KEY] = True
        if request.user.is_verified():
            messages.info(request, _("Two-factor sign-in is already on."))
            return redirect("signin:account")
        return redirect("signin:verify")
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            device = services.totp_enrolment_confirm(
                request=request, user=request.user, token=form.cleaned_data["token"]
            )
            if device is not None:
                messages.success(request, _("Two-factor sign-in is on."))
                return redirect(_next_url(request))
            form.add_error("token", _("That code does not match. Check the app and try again."))
    key = services.totp_pending_key(request=request)
    uri = TOTPDevice(user=request.user, key=key).config_url
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, svgclass="qr-code")
    return render(
        request,
        "account/two_factor_enrol.html",
        {
            "form": form,
            # segno writes only an <svg> with a <path>: no script, no style attribute.
            "qr_svg": mark_safe(svg),  # noqa: S308
            "secret": secret,
            "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": two_factor_required(request.user),
            "next": _next_url(request),
        },
        status=status,
    )


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "account/account.html",
        {
            "device": confirmed_device(request.user),
            "required": two_factor_required(request.user),
            "remove_form": TokenForm(),
        },
    )


@require_POST
@login_required
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """The owner turns two-factor off (or resets it), proving it with a current code."""
    device = confirmed_device(request.user)
    form = TokenForm(request.POST)
    if device is None:
        return redirect("signin:account")
    if not form.is_valid() or not services.totp_verify(
        request=request, user=request.user, token=form.cleaned_data["token"]
    ):
        messages.error(request, _("That code is not right; two-factor sign-in stays on."))
        return redirect("signin:account")
    services.totp_remove(request=request, device=device, actor_user=request.user)
    if two_factor_required(request.user):
        messages.info(request, _("Your role needs two-factor sign-in: enrol your new device."))
        return redirect("signin:enrol")
    messages.success(request, _("Two-factor sign-in is off."))
    return redirect("signin:account")


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sessions_end_everywhere(request=request, user=request.user)
    logout(request)
    messages.success(request, _("You are signed out on every device."))
    return redirect("login")


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Django's form and the password validators of settings.AUTH_PASSWORD_VALIDATORS."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Other sessions end (their password hash no longer matches); this one stays.
        update_session_auth_hash(request, user)
        services.password_changed(request=request, user=user)
        messages.success(request, _("Your password is changed."))
        return redirect("signin:account")
    return render(
        request,
        "account/password_change.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (settings.AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
