"""The staff roles of DESIGN.md "People", as Django groups.

The groups are created by data migrations (moderation 0003, signin 0005 and 0006), which bind
each to its role's stable key (`signin.StaffRole`). Every access module asks this one about a user's
roles, so the answer is the same everywhere: a role is membership, by an active user, of the
group bound to the role's key — never a group's name (a label anyone with database access
could change) and never the superuser flag.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    MODERATOR = "Moderator"
    SUPERVISOR = "Supervisor"
    AUDITOR = "Auditor"
    ADMINISTRATOR = "Administrator"
    # Held beside Moderator, Supervisor or Auditor: may open the restricted categories
    # (accounts.categories.RESTRICTED_CATEGORIES) — CSAM and terrorism (issue 16).
    SPECIALIST = "Specialist"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.MODERATOR: _("Moderator"),
    Role.SUPERVISOR: _("Supervisor"),
    Role.AUDITOR: _("Auditor"),
    Role.ADMINISTRATOR: _("Administrator"),
    Role.SPECIALIST: _("Specialist (CSAM and terrorism)"),
}


def roles_of(user: Any) -> frozenset[Role]:
    """The roles an active signed-in user holds; cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_saring_roles", None)
    if cached is None:
        keys = set(user.groups.values_list("staff_role__key", flat=True))
        cached = frozenset(role for role in Role if role.value in keys)
        user._saring_roles = cached
    return cached


def role_groups(*roles: Role) -> Any:
    """The groups that hold `roles` (all roles when none is named), found by key: what the
    admin offers as roles and what demo and benchmark people are put in."""
    # Imported here: the admin site loads this module before the app registry is ready.
    from django.contrib.auth.models import Group

    keys = [role.value for role in (roles or tuple(Role))]
    return Group.objects.filter(staff_role__key__in=keys)


def has_role(user: Any, *roles: Role) -> bool:
    """True when the user holds at least one of the roles."""
    return bool(roles_of(user) & set(roles))


View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """The one gate of every staff page: signed-out people go to the login page; signed-in
    people without one of the roles get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                # Imported here: config.admin loads this module before the app registry.
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
