"""Writes for platforms and chat accounts."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Platform


@transaction.atomic
def platform_configure(
    *,
    slug: str,
    endpoint_url: str | None = None,
    name: str | None = None,
    signing_secret: str | None = None,
    callback_secret: str | None = None,
    rate_limit_per_second: float | None = None,
    active: bool | None = None,
) -> tuple[Platform, bool]:
    """Create or update a platform; only the values given change. Returns (platform, created)."""
    platform = Platform.objects.select_for_update().filter(slug=slug).first()
    created = platform is None
    if created:
        platform = Platform(slug=slug, name=name or slug.title())
    changes = {
        "endpoint_url": endpoint_url,
        "name": name,
        "signing_secret": signing_secret,
        "callback_secret": callback_secret,
        "rate_limit_per_second": rate_limit_per_second,
        "active": active,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(platform, field, value)
    platform.full_clean()
    if created:
        platform.save()
    else:
        platform.save(
            update_fields=[f for f, v in changes.items() if v is not None] + ["updated_at"]
        )
    return platform, created
