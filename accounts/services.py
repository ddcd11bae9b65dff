"""Writes for chat accounts (platforms are configured by moderation, which audits it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.identifiers import Identifier
from accounts.models import ChatAccount

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
    now = timezone.now()
    rows = []
    for (platform_id, identifier), seen in by_key.items():
        rows.append(
            (
                platform_id,
                identifier,
                seen[0].identifier.kind,
                next((s.display_name for s in seen if s.display_name), "")[:255],
                next((s.profile_url for s in seen if s.profile_url), "")[:1000],
                next((s.identifier.phone for s in seen if s.identifier.phone), None),
                min(s.seen_at for s in seen),
                max(s.seen_at for s in seen),
            )
        )
    with connection.cursor() as cursor:
        # One statement for the whole batch; ON CONFLICT makes concurrent creation safe.
        cursor.execute(_ACCOUNTS_INSERT, [now, now, _json_rows(_INSERT_FIELDS, rows)])
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
    updates = [
        (accounts[(row[0], row[1])].pk, row[3], row[4], row[5], row[6], row[7]) for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS_UPDATE, [now, _json_rows(_UPDATE_FIELDS, updates)])
    return accounts


_ACCOUNTS_INSERT = """
INSERT INTO accounts_chataccount
    (platform_id, identifier, identifier_kind, display_name, profile_url, phone_numbers,
     first_reported_at, last_reported_at, status, created_at, updated_at)
SELECT v.platform_id, v.identifier, v.kind, v.display_name, v.profile_url,
       CASE WHEN v.phone IS NULL THEN '{}'::varchar[] ELSE ARRAY[v.phone]::varchar[] END,
       v.first_at, v.last_at, 'under_review', %s, %s
  FROM jsonb_to_recordset(%s::jsonb)
       AS v(platform_id bigint, identifier text, kind text, display_name text, profile_url text,
            phone text, first_at timestamptz, last_at timestamptz)
    ON CONFLICT (platform_id, identifier) DO NOTHING
"""

_ACCOUNTS_UPDATE = """
UPDATE accounts_chataccount AS a
   SET first_reported_at = LEAST(a.first_reported_at, v.first_at),
       last_reported_at = GREATEST(a.last_reported_at, v.last_at),
       phone_numbers = CASE
           WHEN v.phone IS NULL OR v.phone = ANY(a.phone_numbers) THEN a.phone_numbers
           ELSE a.phone_numbers || v.phone::varchar END,
       display_name = CASE WHEN a.display_name = '' THEN v.display_name ELSE a.display_name END,
       profile_url = CASE WHEN a.profile_url = '' THEN v.profile_url ELSE a.profile_url END,
       updated_at = %s
  FROM jsonb_to_recordset(%s::jsonb)
       AS v(id bigint, display_name text, profile_url text, phone text, first_at timestamptz,
            last_at timestamptz)
 WHERE a.id = v.id
"""

_INSERT_FIELDS = (
    "platform_id",
    "identifier",
    "kind",
    "display_name",
    "profile_url",
    "phone",
    "first_at",
    "last_at",
)
_UPDATE_FIELDS = ("id", "display_name", "profile_url", "phone", "first_at", "last_at")


def _json_rows(fields: tuple[str, ...], rows: list[tuple]) -> str:
    """A batch as one JSON document for jsonb_to_recordset (cheaper than array parameters)."""
    return json.dumps(
        [dict(zip(fields, row, strict=True)) for row in rows],
        default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
    )
