from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from signin.policy import (
    SESSION_EPOCH_KEY,
    SESSION_HAS_DEVICE_KEY,
    current_epoch,
    two_factor_required,
)

# The only pages a person who still owes a second factor may open.
OPEN_BEFORE_SECOND_FACTOR = ("signin:verify", "signin:enrol", "logout", "set_language")


class SignInPolicyMiddleware:
    """After Django's and django-otp's middleware: ends sessions from before a "sign out
    everywhere", and keeps anyone who owes a second factor on the two-factor pages.

    A second factor is owed by supervisors and administrators always, and by anyone else who
    has enrolled a device. The Django admin is behind this too, as it is just another page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if request.session.get(SESSION_EPOCH_KEY, 0) != current_epoch(user):
                logout(request)
                return redirect_to_login(request.get_full_path())
            if (
                not user.is_verified()
                and request.path_info not in self.open_paths()
                and self._owes_second_factor(request)
            ):
                return self._to_second_factor(request)
        return self.get_response(request)

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(reverse(name) for name in OPEN_BEFORE_SECOND_FACTOR)
        return self._open_paths

    @staticmethod
    def _owes_second_factor(request: HttpRequest) -> bool:
        return bool(request.session.get(SESSION_HAS_DEVICE_KEY)) or two_factor_required(
            request.user
        )

    @staticmethod
    def _to_second_factor(request: HttpRequest) -> HttpResponse:
        target = "signin:verify" if request.session.get(SESSION_HAS_DEVICE_KEY) else "signin:enrol"
        url = reverse(target)
        if request.method == "GET" and not request.path_info.startswith("/api/"):
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
