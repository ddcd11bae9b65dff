from __future__ import annotations

import sys
from http import HTTPStatus

import redis
from django import db
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views import defaults

from config.roles import Role, roles_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their role's home; several roles: the first in this order."""
    roles = roles_of(request.user)
    if roles & {Role.MODERATOR, Role.SUPERVISOR}:
        return redirect("moderation:queue")
    if Role.AUDITOR in roles:
        return redirect("moderation:audit_home")
    if Role.ADMINISTRATOR in roles:
        return redirect("admin:index")
    return render(request, "no_role.html", status=403)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links (the API docs, an evidence file):
    the site's icon, not a 404 in every log."""
    return redirect(staticfiles_storage.url("favicon.svg"))


# --- Error pages: the API answers problem+json (RFC 9457) even where no API view ran, e.g. a
# path that matches no route; everything else gets the site's own pages (templates/403.html,
# 404.html, 500.html: translated, with the way back).

API_PREFIX = "/api/"


def _problem(status: int, detail: str) -> JsonResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _problem(404, "Nothing is at this address.")
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _problem(400, "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _problem(403, "You may not do this.")
    return defaults.permission_denied(request, exception)


# PostgreSQL or Redis not answering (a restart, a failover): nothing was saved, and the same
# request a few seconds later will most likely work, so say that (503 and Retry-After).
UNAVAILABLE = (db.OperationalError, db.InterfaceError, redis.RedisError)
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        if request.path.startswith(API_PREFIX):
            response = _problem(
                503, "A service Saring needs is not answering; nothing was saved. Try again."
            )
        else:  # no base template: its context would ask the database again
            response = HttpResponse(
                loader.render_to_string("unavailable.html", {"seconds": RETRY_AFTER_SECONDS}),
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith(API_PREFIX):
        return _problem(500, "Something went wrong on our side; nothing was saved.")
    return defaults.server_error(request)
