"""Django and django-axes report sign-ins only as signals: each receiver calls a service."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from signin import services


@receiver(user_logged_in, dispatch_uid="signin.logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    if request is not None:
        services.signin_succeeded(request=request, user=user)


@receiver(user_login_failed, dispatch_uid="signin.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.signin_failed(request=request, username=str(credentials.get("username") or ""))


@receiver(user_locked_out, dispatch_uid="signin.locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    services.signin_locked_out(request=request, username=str(username or ""))


@receiver(user_logged_out, dispatch_uid="signin.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    services.signed_out(request=request, user=user)
