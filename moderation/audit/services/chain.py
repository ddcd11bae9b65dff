"""Writing the audit trail (DESIGN.md "The audit trail"): append-only events.

Every service that changes state calls `audit_record` inside its own `transaction.atomic()`,
so the event and the change commit or roll back together: a failed audit write fails the
change. Writers take no lock of any kind: the event's number comes from a PostgreSQL sequence
and its transaction id from PostgreSQL, and the sequencer (services/log.py) later makes it a
leaf of the Merkle tree once every transaction that could commit before it has ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from config.recordset import Recordset
from moderation.models import AuditEvent


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


def _plain(data: Any) -> Any:
    """What JSON (and so the jsonb column) will hold: the event carries exactly what is stored."""
    return json.loads(json.dumps(data if data is not None else {}, cls=DjangoJSONEncoder))


def _event(entry: AuditEntry, *, created_at: datetime) -> AuditEvent:
    """The event for one entry (not saved): its number and transaction id come on insert."""
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
    return AuditEvent(
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
    )


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    subject_label: str | None = None,
    data: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Write one event, in the caller's transaction.

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
    event = _event(entry, created_at=timezone.now())
    event.save(force_insert=True)  # its number and transaction id come back from the INSERT
    return event


def audit_record_many(*, entries: list[AuditEntry]) -> int:
    """Write several events in one INSERT (numbered in order), for a batch of 500 reports that
    would otherwise pay a round trip per event. Returns how many were written."""
    if not entries:
        return 0
    created_at = timezone.now()
    events = [_event(entry, created_at=created_at) for entry in entries]
    rows = _EVENTS.rows(
        {
            **{name: getattr(e, name) for name in _EVENTS.names if name != "actor_user_id"},
            "actor_user_id": e.actor_user.pk if e.actor_user is not None else None,
        }
        for e in events
    )
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_INSERT, [rows])
    return len(events)


_EVENTS = Recordset(
    (
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
    )
)
# Numbered in the batch's order: jsonb_to_recordset yields the rows as they are in the array.
_EVENTS_INSERT = _EVENTS.insert_sql("moderation_auditevent")
