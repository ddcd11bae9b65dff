"""Who may see what of intake: evidence and public reporters' contact details."""

from __future__ import annotations

from accounts.categories import RESTRICTED_CATEGORIES
from config.roles import Role, has_role

# Evidence is chain-of-custody material: staff who review or audit may open it; an
# administrator manages the system but does not look at evidence.
EVIDENCE_ROLES = (Role.MODERATOR, Role.SUPERVISOR, Role.AUDITOR)


def can_view_evidence(user) -> bool:
    return has_role(user, *EVIDENCE_ROLES)


def can_see_restricted(user) -> bool:
    """Whether `user` may open the restricted categories at all (the Specialist role)."""
    return has_role(user, Role.SPECIALIST)


def can_see_content(user, category: str) -> bool:
    """Whether `user` may read the content of a case or report filed under `category`: its
    texts, evidence and the account's details. The restricted categories (CSAM, terrorism)
    are for people in the Specialist role only; everyone else learns that such a case exists
    and no more. The one rule: case pages, queue rows and evidence all ask it."""
    return category not in RESTRICTED_CATEGORIES or can_see_restricted(user)


def can_see_reporter_contact(user) -> bool:
    """A public reporter's name, e-mail and phone: supervisors only (DESIGN.md "People")."""
    return has_role(user, Role.SUPERVISOR)


def mask_email(value: str) -> str:
    if not value:
        return ""
    local, _, domain = value.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def mask_phone(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    return f"•••{''.join(digits[-2:])}" if digits else ""


def mask_name(value: str) -> str:
    return f"{value[:1]}•••" if value else ""


def reporter_contact_for(user, report) -> dict:
    """The contact details of a report as this user may see them (or when retention erased
    them: `erased_at`)."""
    if report.contact_deleted_at is not None:
        return {
            "name": "",
            "email": "",
            "phone": "",
            "masked": False,
            "erased_at": report.contact_deleted_at,
        }
    if can_see_reporter_contact(user):
        return {
            "name": report.reporter_name,
            "email": report.reporter_email,
            "phone": report.reporter_phone,
            "masked": False,
        }
    return {
        "name": mask_name(report.reporter_name),
        "email": mask_email(report.reporter_email),
        "phone": mask_phone(report.reporter_phone),
        "masked": True,
    }
