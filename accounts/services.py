"""Writes for platforms and chat accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.identifiers import Identifier
from accounts.models import ChatAccount, Platform


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


# --- Account resolution (intake, issue 3) -------------------------------------------------


@dataclass(frozen=True)
class AccountSighting:
    """One report's view of an account: the normalised identifier and what else it told us."""

    platform_id: int
    identifier: Identifier
    seen_at: datetime
    display_name: str = ""
    profile_url: str = ""

    @property
    def key(self) -> tuple[int, str]:
        return (self.platform_id, self.identifier.value)


def chat_accounts_resolve(
    *, sightings: list[AccountSighting]
) -> dict[tuple[int, str], ChatAccount]:
    """Find or create the account of every sighting and lock the rows, in the caller's
    transaction. Returns the accounts by (platform id, normalised identifier).

    Creation is ``INSERT … ON CONFLICT DO NOTHING``, so two reports for a new account that
    arrive at the same moment make one row; the rows are then locked in id order, which
    serialises everything that follows (opening a case) per account without deadlocks.
    """
    if not sightings:
        return {}
    by_key: dict[tuple[int, str], list[AccountSighting]] = {}
    for sighting in sightings:
        by_key.setdefault(sighting.key, []).append(sighting)
    ChatAccount.objects.bulk_create(
        [
            ChatAccount(
                platform_id=platform_id,
                identifier=identifier,
                identifier_kind=seen[0].identifier.kind,
                display_name=next((s.display_name for s in seen if s.display_name), "")[:255],
                profile_url=next((s.profile_url for s in seen if s.profile_url), "")[:1000],
                phone_numbers=sorted({s.identifier.phone for s in seen if s.identifier.phone}),
                first_reported_at=min(s.seen_at for s in seen),
                last_reported_at=max(s.seen_at for s in seen),
            )
            for (platform_id, identifier), seen in by_key.items()
        ],
        ignore_conflicts=True,
    )
    wanted = Q()
    identifiers_by_platform: dict[int, list[str]] = {}
    for platform_id, identifier in by_key:
        identifiers_by_platform.setdefault(platform_id, []).append(identifier)
    for platform_id, identifiers in identifiers_by_platform.items():
        wanted |= Q(platform_id=platform_id, identifier__in=identifiers)
    accounts = {
        (a.platform_id, a.identifier): a
        for a in ChatAccount.objects.select_for_update().filter(wanted).order_by("id")
    }
    changed = []
    for key, account in accounts.items():
        seen = by_key[key]
        before = (
            account.first_reported_at,
            account.last_reported_at,
            list(account.phone_numbers),
            account.display_name,
            account.profile_url,
        )
        account.first_reported_at = min(account.first_reported_at, *(s.seen_at for s in seen))
        account.last_reported_at = max(account.last_reported_at, *(s.seen_at for s in seen))
        phones = set(account.phone_numbers) | {
            s.identifier.phone for s in seen if s.identifier.phone
        }
        account.phone_numbers = sorted(phones)
        if not account.display_name:
            account.display_name = next((s.display_name for s in seen if s.display_name), "")[:255]
        if not account.profile_url:
            account.profile_url = next((s.profile_url for s in seen if s.profile_url), "")[:1000]
        after = (
            account.first_reported_at,
            account.last_reported_at,
            account.phone_numbers,
            account.display_name,
            account.profile_url,
        )
        if after != before:
            changed.append(account)
    if changed:
        now = timezone.now()
        for account in changed:
            account.updated_at = now
        ChatAccount.objects.bulk_update(
            changed,
            [
                "first_reported_at",
                "last_reported_at",
                "phone_numbers",
                "display_name",
                "profile_url",
                "updated_at",
            ],
        )
    return accounts
