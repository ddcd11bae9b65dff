from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from config.roles import Role, roles_of
from moderation.objections import objections_awaiting_counts


def navigation(request: HttpRequest) -> dict:
    """The header's links: only what the signed-in user's roles may open."""
    roles = roles_of(getattr(request, "user", None))
    links = []
    # Auditors read the queue too (read-only): DESIGN.md "People".
    if roles & {Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR}:
        links.append((_("Queue"), reverse("moderation:queue")))
    if Role.SUPERVISOR in roles:
        links.append((_("Supervision"), reverse("moderation:supervisor_home")))
    if Role.SUPERVISOR in roles:  # intake (issue 3)
        links.append((_("Import"), reverse("reports:import_upload")))
    if Role.AUDITOR in roles:
        links.append((_("Audit"), reverse("moderation:audit_home")))
    # Takedowns (issue 5): approvals for supervisors; requests for supervisors and auditors.
    if Role.SUPERVISOR in roles:
        links.append((_("Approvals"), reverse("moderation:approvals")))
        links.append((_("Contact exports"), reverse("moderation:audit_exports_awaiting")))
    # Objections (issue 18): supervisors decide them, auditors read them; the link carries how
    # many await a decision and how many of those are overdue (one indexed query, on use).
    objections_href = ""
    if roles & {Role.SUPERVISOR, Role.AUDITOR}:
        objections_href = reverse("moderation:objections")
        links.append((_("Objections"), objections_href))
    if roles & {Role.SUPERVISOR, Role.AUDITOR}:
        links.append((_("Takedowns"), reverse("moderation:takedowns")))
        # What retention deleted (README "Retention"): auditors, and supervisors, who hold cases.
        links.append((_("Retention"), reverse("moderation:retention_batches")))
    # Blur and grayscale of evidence pictures, for everyone who sees them (issue 16).
    if roles & {Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR}:
        links.append((_("My evidence settings"), reverse("moderation:evidence_settings")))
    if Role.ADMINISTRATOR in roles:
        links.append((_("Administration"), reverse("admin:index")))
    return {
        "nav_links": links,
        "nav_objections_href": objections_href,
        "nav_objections": SimpleLazyObject(objections_awaiting_counts),
        "user_roles": sorted(role.label for role in roles),
        # The header's global search (issue 8): staff who review, supervise or audit.
        "can_search": bool(roles & {Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR}),
    }
