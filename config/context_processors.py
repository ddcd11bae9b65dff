from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.roles import Role, roles_of


def navigation(request: HttpRequest) -> dict:
    """The header's links: only what the signed-in user's roles may open."""
    roles = roles_of(getattr(request, "user", None))
    links = []
    if roles & {Role.MODERATOR, Role.SUPERVISOR}:
        links.append((_("Queue"), reverse("moderation:queue")))
    if Role.SUPERVISOR in roles:
        links.append((_("Supervision"), reverse("moderation:supervisor_home")))
    if Role.SUPERVISOR in roles:  # intake (issue 3)
        links.append((_("Import"), reverse("reports:import_upload")))
    if Role.AUDITOR in roles:
        links.append((_("Audit"), reverse("moderation:audit_home")))
    if Role.ADMINISTRATOR in roles:
        links.append((_("Administration"), reverse("admin:index")))
    return {
        "nav_links": links,
        "user_roles": sorted(role.label for role in roles),
    }
