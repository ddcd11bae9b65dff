"""Configuring platform operators: endpoint, secrets, rate limit. Audited, secrets never logged."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Platform
from moderation.audit import Actor, audit_record

SECRET_FIELDS = ("signing_secret", "callback_secret")


def platform_audit(
    *,
    platform: Platform,
    created: bool,
    changed: list[str],
    before: dict,
    actor: Actor,
    ip_address: str | None = None,
) -> None:
    """One event for a platform's creation or change. Secrets appear only as "rotated"."""
    after = {field: getattr(platform, field) for field in changed if field not in SECRET_FIELDS}
    data = {
        "before": {k: v for k, v in before.items() if k in after},
        "after": after,
        "secrets_rotated": sorted(f for f in changed if f in SECRET_FIELDS),
    }
    audit_record(
        actor=actor,
        action="platform.created" if created else "platform.changed",
        subject=platform,
        data=data,
        ip_address=ip_address,
    )


@transaction.atomic
def platform_configure(
    *,
    slug: str,
    actor: Actor,
    endpoint_url: str | None = None,
    name: str | None = None,
    signing_secret: str | None = None,
    callback_secret: str | None = None,
    rate_limit_per_second: float | None = None,
    active: bool | None = None,
) -> tuple[Platform, bool]:
    """Create or update a platform; only the values given change. Returns (platform, created)."""
    # NO KEY UPDATE: a platform change never touches its id, so requests referring to the
    # platform (their foreign-key checks take KEY SHARE) are not held up while it is saved.
    existing = Platform.objects.select_for_update(no_key=True).filter(slug=slug).first()
    created = existing is None
    platform = existing or Platform(slug=slug, name=name or slug.title())
    changes = {
        "endpoint_url": endpoint_url,
        "name": name,
        "signing_secret": signing_secret,
        "callback_secret": callback_secret,
        "rate_limit_per_second": rate_limit_per_second,
        "active": active,
    }
    before = {field: getattr(platform, field) for field in changes if field not in SECRET_FIELDS}
    changed = [
        field
        for field, value in changes.items()
        if value is not None and (created or getattr(platform, field) != value)
    ]
    for field in changed:
        setattr(platform, field, changes[field])
    platform.full_clean()
    if created:
        platform.save()
    elif changed:
        platform.save(update_fields=[*changed, "updated_at"])
    if created or changed:
        platform_audit(
            platform=platform, created=created, changed=changed, before=before, actor=actor
        )
    return platform, created
