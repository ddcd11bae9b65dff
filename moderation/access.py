"""Who may see and do what in moderation (DESIGN.md "People"). Views go through here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from config.roles import Role, has_role

REVIEWERS = (Role.MODERATOR, Role.SUPERVISOR)
READERS = (Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR)


def role_required(*roles: Role) -> Callable:
    """Signed-out people go to the login page; signed-in people without the role get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def can_review(user) -> bool:
    return has_role(user, *REVIEWERS)


def can_supervise(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


def can_audit(user) -> bool:
    return has_role(user, Role.AUDITOR)
