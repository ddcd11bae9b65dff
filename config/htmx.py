"""htmx requests that meet the sign-in page.

A signed-out person's request is answered with a redirect to /login/ (config.roles
role_required, login_required, signin.middleware ending an idle session). A browser
follows that redirect inside htmx's request, and htmx would then swap the whole sign-in
page into the part of the page it meant to update: the login form inside the queue's
results. So for an htmx request such a redirect becomes `HX-Redirect`, which htmx answers
by loading the sign-in page as the whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def _is_sign_in_redirect(response: HttpResponse) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    location = urlsplit(response.get("Location", ""))
    return location.path == resolve_url(settings.LOGIN_URL)


class HtmxSignInRedirectMiddleware:
    """Outside every middleware and view that may send a person to sign in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") == "true" and _is_sign_in_redirect(response):
            redirected = HttpResponse(status=200)
            redirected["HX-Redirect"] = _sign_in_then_back(request, response["Location"])
            return redirected
        return response


def _sign_in_then_back(request: HttpRequest, location: str) -> str:
    """After signing in, back to the page the person was on (htmx sends it as
    HX-Current-URL), not to the piece of it htmx asked for (a poll, a filtered table)."""
    current = request.headers.get("HX-Current-URL", "")
    if not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return location
    page = urlsplit(current)
    back = page.path + (f"?{page.query}" if page.query else "")
    return redirect_to_login(back).url
