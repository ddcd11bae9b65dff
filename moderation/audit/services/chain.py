"""The audit trail (DESIGN.md "The audit trail"): append-only and hash-chained.

Every service that changes state calls `audit_record` inside its own `transaction.atomic()`,
so the event and the change commit or roll back together: a failed audit write fails the
change. Appends take a transaction-level advisory lock, so two writers can never both read
the same chain head and fork the chain; the lock is released when the transaction ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from config.recordset import Recordset
from moderation.models import AuditEvent

# Any fixed 64-bit number: the advisory lock that serialises appends to the chain.
AUDIT_CHAIN_LOCK = 0x5A52_1A6_AD17
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, a source organisation, an operator, the public or the system."""

    kind: str
    label: str
    user: Any = None

    @classmethod
    def staff(cls, user: Any) -> Actor:
        return cls(AuditEvent.ActorKind.USER, user.get_username(), user)

    @classmethod
    def organisation(cls, organisation: Any) -> Actor:
        return cls(AuditEvent.ActorKind.ORGANISATION, f"organisation:{organisation.slug}")

    @classmethod
    def operator(cls, platform: Any) -> Actor:
        return cls(AuditEvent.ActorKind.OPERATOR, f"operator:{platform.slug}")

    @classmethod
    def public(cls) -> Actor:
        return cls(AuditEvent.ActorKind.PUBLIC, "public")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(AuditEvent.ActorKind.SYSTEM, what)

    @classmethod
    def anonymous(cls, username: str) -> Actor:
        """Someone not signed in who claims a name, e.g. a failed sign-in."""
        return cls(AuditEvent.ActorKind.PUBLIC, f"unauthenticated:{username[:150]}")


def _plain(data: Any) -> Any:
    """What JSON (and so the jsonb column) will hold: hash exactly what is stored."""
    return json.loads(json.dumps(data if data is not None else {}, cls=DjangoJSONEncoder))


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of an event's canonical JSON: sorted keys, no spaces, UTC timestamps."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def canonical_fields(
    *,
    sequence: int,
    created_at: datetime,
    actor_kind: str,
    actor_user_id: int | None,
    actor_label: str,
    action: str,
    subject_type: str,
    subject_id: str,
    subject_label: str,
    data: Any,
    ip_address: str,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "created_at": _utc_iso(created_at),
        "actor_kind": actor_kind,
        "actor_user_id": actor_user_id,
        "actor_label": actor_label,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "subject_label": subject_label,
        "data": data,
        "ip_address": ip_address,
        "prev_hash": prev_hash,
    }


def _chain_head_locked() -> tuple[int, str]:
    """Take the chain's lock for the rest of the transaction; return the head (0 if empty)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return (head[0], head[1]) if head else (0, GENESIS_HASH)


def _chained_event(
    entry: AuditEntry, *, sequence: int, prev_hash: str, created_at: datetime
) -> AuditEvent:
    """The event for one entry at one place in the chain, its hash computed (not saved)."""
    subject_type, subject_id, subject_label = (
        entry.subject_type,
        entry.subject_id,
        entry.subject_label,
    )
    if entry.subject is not None:
        subject_type = entry.subject._meta.label_lower
        subject_id = str(entry.subject.pk)
        if subject_label is None:
            subject_label = str(entry.subject)
    event = AuditEvent(
        sequence=sequence,
        created_at=created_at,
        actor_kind=entry.actor.kind,
        actor_user=entry.actor.user,
        actor_label=entry.actor.label[:200],
        action=entry.action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=(subject_label or "")[:300],
        data=_plain(entry.data),
        ip_address=(entry.ip_address or "")[:45],
        prev_hash=prev_hash,
    )
    event.hash = event_hash(
        canonical_fields(
            sequence=event.sequence,
            created_at=event.created_at,
            actor_kind=event.actor_kind,
            actor_user_id=entry.actor.user.pk if entry.actor.user is not None else None,
            actor_label=event.actor_label,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            subject_label=event.subject_label,
            data=event.data,
            ip_address=event.ip_address,
            prev_hash=event.prev_hash,
        )
    )
    return event


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    subject_label: str | None = None,
    data: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `subject_label` is how the subject reads *now* (e.g. "michat:+62812…"), kept because the
    subject may change or be renamed later. `data` holds before/after values.
    """
    entry = AuditEntry(
        actor=actor,
        action=action,
        subject=subject,
        subject_label=subject_label,
        data=data,
        ip_address=ip_address,
    )
    with transaction.atomic():
        sequence, prev_hash = _chain_head_locked()
        event = _chained_event(
            entry, sequence=sequence + 1, prev_hash=prev_hash, created_at=timezone.now()
        )
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    head_sequence: int | None
    head_hash: str | None
    broken_at: int | None  # the first sequence whose link or hash does not hold
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _rows() -> Iterator[tuple]:
    columns = [
        "sequence",
        "created_at",
        "actor_kind",
        "actor_user_id",
        "actor_label",
        "action",
        "subject_type",
        "subject_id",
        "subject_label",
        "data",
        "ip_address",
        "prev_hash",
        "hash",
    ]
    queryset = AuditEvent.objects.order_by("sequence").values_list(*columns)
    yield from queryset.iterator(chunk_size=5000)


def audit_chain_verify() -> ChainReport:
    """Recompute every hash and every link, in order; name the first that does not hold."""
    expected_prev, expected_sequence, count = GENESIS_HASH, 1, 0
    last_hash = None
    for row in _rows():
        (
            sequence,
            created_at,
            actor_kind,
            actor_user_id,
            actor_label,
            action,
            subject_type,
            subject_id,
            subject_label,
            data,
            ip_address,
            prev_hash,
            stored_hash,
        ) = row
        count += 1
        if sequence != expected_sequence:
            return ChainReport(
                count,
                sequence,
                stored_hash,
                expected_sequence,
                f"event {expected_sequence} is missing",
            )
        if prev_hash != expected_prev:
            return ChainReport(
                count,
                sequence,
                stored_hash,
                sequence,
                "its previous-hash does not match the event before it",
            )
        computed = event_hash(
            canonical_fields(
                sequence=sequence,
                created_at=created_at,
                actor_kind=actor_kind,
                actor_user_id=actor_user_id,
                actor_label=actor_label,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                subject_label=subject_label,
                data=data,
                ip_address=ip_address,
                prev_hash=prev_hash,
            )
        )
        if computed != stored_hash:
            return ChainReport(
                count,
                sequence,
                stored_hash,
                sequence,
                "its content does not match its hash (changed after writing)",
            )
        expected_prev, expected_sequence, last_hash = stored_hash, sequence + 1, stored_hash
    return ChainReport(count, expected_sequence - 1 if count else None, last_hash, None)


# --- Many events at once (intake, issue 3) ----------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    actor: Actor
    action: str
    subject: models.Model | None = None
    subject_label: str | None = None
    data: dict | None = None
    ip_address: str | None = None
    # Instead of `subject`, when the caller has only the row's id (e.g. after a raw INSERT).
    subject_type: str = ""
    subject_id: str = ""


def audit_record_many(*, entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append several events in order with one lock, one head read and one INSERT.

    The same chain as `audit_record` (same lock, same canonical JSON), for a batch of 500
    reports that would otherwise pay a round trip per event.
    """
    if not entries:
        return []
    with transaction.atomic():
        sequence, prev_hash = _chain_head_locked()
        created_at = timezone.now()
        events = []
        for entry in entries:
            sequence += 1
            event = _chained_event(
                entry, sequence=sequence, prev_hash=prev_hash, created_at=created_at
            )
            prev_hash = event.hash
            events.append(event)
        _events_insert(events)
    return events


_EVENTS = Recordset(
    (
        ("sequence", "bigint"),
        ("created_at", "timestamptz"),
        ("actor_kind", "text"),
        ("actor_user_id", "bigint"),
        ("actor_label", "text"),
        ("action", "text"),
        ("subject_type", "text"),
        ("subject_id", "text"),
        ("subject_label", "text"),
        ("data", "jsonb"),
        ("ip_address", "text"),
        ("prev_hash", "text"),
        ("hash", "text"),
    )
)
_EVENTS_INSERT = _EVENTS.insert_sql("moderation_auditevent")


def _events_insert(events: list[AuditEvent]) -> None:
    """One INSERT for all events (see config.recordset)."""
    rows = _EVENTS.rows({name: getattr(e, name) for name in _EVENTS.names} for e in events)
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_INSERT, [rows])
