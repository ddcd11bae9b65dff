"""Configuring platform operators: endpoint, secrets, rate limit. Audited, secrets never logged."""

from __future__ import annotations

from django.db import connection, transaction

from accounts.models import Platform
from config import secretbox
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
    restore_url: str | None = None,
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
        "restore_url": restore_url,
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


def platform_secrets_reencrypt(*, actor: Actor) -> int:
    """Re-encrypt every platform's stored secrets under the newest key of
    PLATFORM_SECRET_KEYS (step 2 of a key rotation, config/secretbox.py); the secrets
    themselves do not change. One audit event a platform, naming the key by its fingerprint.
    Returns how many platforms were re-encrypted."""
    fingerprint = secretbox.key_fingerprint()
    done = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Raw rows: the tokens themselves, not the secrets the model would decrypt them to.
        cursor.execute(
            "SELECT id, slug, signing_secret, callback_secret FROM accounts_platform"
            " ORDER BY id FOR NO KEY UPDATE"
        )
        for pk, slug, signing, callback in cursor.fetchall():
            cursor.execute(
                "UPDATE accounts_platform SET signing_secret = %s, callback_secret = %s"
                " WHERE id = %s",
                [secretbox.reseal(signing), secretbox.reseal(callback), pk],
            )
            audit_record(
                actor=actor,
                action="platform.secrets_reencrypted",
                subject=Platform(pk=pk, slug=slug),
                subject_label=slug,
                data={"fields": list(SECRET_FIELDS), "key": fingerprint},
            )
            done += 1
    return done
