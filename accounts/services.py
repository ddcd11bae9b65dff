"""Writes for chat accounts (platforms are configured by moderation, which audits it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.identifiers import Identifier
from accounts.models import ChatAccount
from config.recordset import Recordset

# --- Account resolution (intake, issue 3) -------------------------------------------------


@dataclass(frozen=True)
class AccountSighting:
    """One report's view of an account: the normalised identifier and what else it told us."""

    platform_id: int
    identifier: Identifier
    seen_at: datetime
    display_name: str = ""
    profile_url: str = ""
    # Numbers written in the report's text (accounts.identifiers.phones_in_text), E.164.
    phones_found: tuple[str, ...] = ()

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
    now = timezone.now()
    rows: list[dict[str, Any]] = [
        {
            "platform_id": platform_id,
            "identifier": identifier,
            "kind": seen[0].identifier.kind,
            "display_name": next((s.display_name for s in seen if s.display_name), "")[:255],
            "profile_url": next((s.profile_url for s in seen if s.profile_url), "")[:1000],
            "phones": _phones_of(seen),
            "first_at": min(s.seen_at for s in seen),
            "last_at": max(s.seen_at for s in seen),
        }
        # Sorted: two batches that share new accounts insert (and so lock) them in the same
        # order, instead of each waiting for the other's row in opposite orders (deadlock).
        for (platform_id, identifier), seen in sorted(by_key.items())
    ]
    with connection.cursor() as cursor:
        # One statement for the whole batch; ON CONFLICT makes concurrent creation safe.
        cursor.execute(_ACCOUNTS_INSERT, [now, now, _SIGHTINGS.rows(rows)])
    wanted = Q()
    identifiers_by_platform: dict[int, list[str]] = {}
    for platform_id, identifier in by_key:
        identifiers_by_platform.setdefault(platform_id, []).append(identifier)
    for platform_id, identifiers in identifiers_by_platform.items():
        wanted |= Q(platform_id=platform_id, identifier__in=identifiers)
    # Lock in id order: two batches sharing accounts wait for each other, never deadlock.
    accounts = {
        (a.platform_id, a.identifier): a
        for a in ChatAccount.objects.select_for_update()
        .filter(wanted)
        .order_by("id")
        .only("id", "platform_id", "identifier", "status")
    }
    for row in rows:
        row["id"] = accounts[(row["platform_id"], row["identifier"])].pk
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS_UPDATE, [now, _SEEN.rows(rows)])
    return accounts


def _phones_of(seen: list[AccountSighting]) -> list[str]:
    """The account's numbers in these sightings: its identifier's, then those found in text."""
    phones: list[str] = []
    for sighting in seen:
        for phone in (sighting.identifier.phone, *sighting.phones_found):
            if phone and phone not in phones:
                phones.append(phone)
    return phones


_SIGHTINGS = Recordset(
    (
        ("platform_id", "bigint"),
        ("identifier", "text"),
        ("kind", "text"),
        ("display_name", "text"),
        ("profile_url", "text"),
        ("phones", "jsonb"),
        ("first_at", "timestamptz"),
        ("last_at", "timestamptz"),
    )
)
_ACCOUNTS_INSERT = f"""
INSERT INTO accounts_chataccount
    (platform_id, identifier, identifier_kind, display_name, profile_url, phone_numbers,
     first_reported_at, last_reported_at, status, created_at, updated_at)
SELECT v.platform_id, v.identifier, v.kind, v.display_name, v.profile_url,
       ARRAY(SELECT jsonb_array_elements_text(v.phones))::varchar[],
       v.first_at, v.last_at, 'under_review', %s, %s
  FROM {_SIGHTINGS.source}
 ORDER BY v.platform_id, v.identifier
    ON CONFLICT (platform_id, identifier) DO NOTHING
"""  # noqa: S608 - built from this module's constants only

_SEEN = Recordset(
    (
        ("id", "bigint"),
        ("display_name", "text"),
        ("profile_url", "text"),
        ("phones", "jsonb"),
        ("first_at", "timestamptz"),
        ("last_at", "timestamptz"),
    )
)
_ACCOUNTS_UPDATE = f"""
UPDATE accounts_chataccount AS a
   SET first_reported_at = LEAST(a.first_reported_at, v.first_at),
       last_reported_at = GREATEST(a.last_reported_at, v.last_at),
       phone_numbers = a.phone_numbers || ARRAY(
           SELECT p FROM jsonb_array_elements_text(v.phones) WITH ORDINALITY AS n(p, i)
            WHERE p <> ALL(a.phone_numbers) ORDER BY i)::varchar[],
       display_name = CASE WHEN a.display_name = '' THEN v.display_name ELSE a.display_name END,
       profile_url = CASE WHEN a.profile_url = '' THEN v.profile_url ELSE a.profile_url END,
       updated_at = %s
  FROM {_SEEN.source}
 WHERE a.id = v.id
"""  # noqa: S608 - built from this module's constants only
