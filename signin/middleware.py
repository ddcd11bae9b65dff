from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from signin.policy import (
    SESSION_ACTIVE_KEY,
    SESSION_EPOCH_KEY,
    SESSION_HAS_DEVICE_KEY,
    SESSION_STARTED_KEY,
    current_epoch,
    is_poll,
    two_factor_required,
)

# The last-activity mark moves at most this often: a person clicking about does not write
# their session on every request.
ACTIVITY_GRANULARITY_SECONDS = 30

# The only pages a person who still owes a second factor may open.
OPEN_BEFORE_SECOND_FACTOR = ("signin:verify", "signin:enrol", "logout", "set_language")


class SignInPolicyMiddleware:
    """After Django's and django-otp's middleware: ends sessions from before a "sign out
    everywhere", sessions idle for SESSION_IDLE_SECONDS (polls do not count as activity) and
    sessions older than SESSION_LIFETIME_SECONDS however busy, and keeps anyone who owes a
    second factor on the two-factor pages.

    A second factor is owed by supervisors, auditors and administrators always, and by anyone
    else who has enrolled a device. The Django admin is behind this too, as it is just another
    page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if request.session.get(SESSION_EPOCH_KEY, 0) != current_epoch(user):
                logout(request)
                return redirect_to_login(request.get_full_path())
            ended = self._session_over(request)
            if ended:
                request.signout_reason = ended  # type: ignore[attr-defined]
                logout(request)
                return self._to_sign_in(request)
            if (
                not user.is_verified()
                and request.path_info not in self.open_paths()
                and self._owes_second_factor(request)
            ):
                return self._to_second_factor(request)
        return self.get_response(request)

    @staticmethod
    def _session_over(request: HttpRequest) -> str | None:
        """ "lifetime" or "idle" when the session has ended by itself, else None (and a
        person's request, not a poll, marks them active)."""
        session = request.session
        now = int(time.time())
        started = session.get(SESSION_STARTED_KEY)
        active = session.get(SESSION_ACTIVE_KEY)
        if not isinstance(started, int) or not isinstance(active, int):
            # A session from before these marks: its clocks start now.
            session[SESSION_STARTED_KEY] = session[SESSION_ACTIVE_KEY] = now
            return None
        if now - started > settings.SESSION_LIFETIME_SECONDS:
            return "lifetime"
        if now - active > settings.SESSION_IDLE_SECONDS:
            return "idle"
        if not is_poll(request) and now - active >= ACTIVITY_GRANULARITY_SECONDS:
            session[SESSION_ACTIVE_KEY] = now
        return None

    @staticmethod
    def _to_sign_in(request: HttpRequest) -> HttpResponse:
        """The sign-in page, with a way back here; an htmx request (a poll) asks its page to
        go there rather than swapping the sign-in form into a corner of it, and the way back is
        that page (HX-Current-URL, if it is on this site), not the poll's own address."""
        if request.headers.get("HX-Request") == "true":
            page = urlsplit(request.headers.get("HX-Current-URL", ""))
            back = page.path + (f"?{page.query}" if page.query else "")
            if not page.path or not url_has_allowed_host_and_scheme(
                request.headers.get("HX-Current-URL", ""), allowed_hosts={request.get_host()}
            ):
                back = "/"
            hx = HttpResponse(status=204)
            hx["HX-Redirect"] = redirect_to_login(back)["Location"]
            return hx
        return redirect_to_login(
            request.get_full_path() if request.method == "GET" else request.path
        )

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
