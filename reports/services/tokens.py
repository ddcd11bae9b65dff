"""Issuing and revoking the API tokens of source organisations (DESIGN.md "Intake API")."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from moderation.audit import Actor, audit_record
from reports.models import ApiToken, SourceOrganisation

TOKEN_PREFIX = "srg_"  # noqa: S105 - a marker, not a secret


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_issue(
    *,
    organisation: SourceOrganisation,
    label: str = "",
    issued_by: User | None = None,
    ip_address: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token; returns (row, the token in clear). Only its SHA-256 is stored, so the
    clear token exists in this return value and nowhere else: show it once."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation=organisation,
        label=label[:100],
        prefix=plain[:12],
        token_hash=token_hash(plain),
        created_by=issued_by,
    )
    token.full_clean()
    token.save()
    audit_record(
        actor=Actor.staff(issued_by) if issued_by is not None else Actor.system("issue_token"),
        action="api_token.issued",
        subject=token,
        data={
            "after": {
                "organisation": organisation.slug,
                "label": token.label,
                "prefix": token.prefix,
            }
        },
        ip_address=ip_address,
    )
    return token, plain


@transaction.atomic
def api_token_revoke(
    *, token: ApiToken, revoked_by: User | None = None, ip_address: str | None = None
) -> bool:
    """Revoke a token; False if it was already revoked (nothing changes then)."""
    now = timezone.now()
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=revoked_by
    )
    if updated != 1:
        return False
    token.revoked_at, token.revoked_by = now, revoked_by
    audit_record(
        actor=Actor.staff(revoked_by) if revoked_by is not None else Actor.system("revoke_token"),
        action="api_token.revoked",
        subject=token,
        data={"before": {"revoked_at": None}, "after": {"revoked_at": now}},
        ip_address=ip_address,
    )
    return True


def api_token_authenticate(plain: str) -> ApiToken | None:
    """The live token with this value, with its organisation; marks it used (at most once a
    minute, so a busy client does not write a row per request)."""
    token = (
        ApiToken.objects.select_related("organisation")
        .filter(token_hash=token_hash(plain), revoked_at__isnull=True, organisation__active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=60):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
