"""Writing the audit trail (DESIGN.md "The audit trail"): append-only events.

Every service that changes state calls `audit_record` inside its own `transaction.atomic()`,
so the event and the change commit or roll back together: a failed audit write fails the
change. Writers take no lock of any kind: the event's number comes from a PostgreSQL sequence
and its transaction id from PostgreSQL, and the sequencer (services/log.py) later makes it a
leaf of the Merkle tree once every transaction that could commit before it has ended.

Each event is written with its canonical bytes (what its leaf will hash), made here from the
same values as its columns; the number goes into them on insert (`canonical_parts`), and the
database's CHECK constraint refuses an event whose columns and bytes disagree.
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
from verifier import saring_verify as tree


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


def canonical_parts(fields: dict[str, Any]) -> tuple[str, str]:
    """An event's canonical text (saring_verify.canonical_event) around its number, which
    PostgreSQL gives on insert: `head + str(sequence) + tail` is the event's bytes, decoded.

    Keys are sorted and "sequence" falls between "prev_hash" and "subject_id", so every key
    is on one side or the other and both sides are never empty."""
    before = {name: value for name, value in fields.items() if name < "sequence"}
    after = {name: value for name, value in fields.items() if name > "sequence"}
    head = tree.canonical_event(before).decode()[:-1] + ',"sequence":'
    tail = "," + tree.canonical_event(after).decode()[1:]
    return head, tail


def _row(event: AuditEvent) -> dict[str, Any]:
    """The columns of one event to insert, with its canonical text around its number."""
    fields = {name: getattr(event, name) for name in _COLUMNS}
    fields["actor_user_id"] = event.actor_user.pk if event.actor_user is not None else None
    head, tail = canonical_parts(
        {**fields, "created_at": tree.utc_iso(event.created_at), "prev_hash": ""}
    )
    return {**fields, "head": head, "tail": tail}


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
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS_INSERT + " RETURNING id, sequence, xid", [_EVENTS.rows([_row(event)])]
        )
        event.pk, event.sequence, event.xid = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
    return event


def audit_record_many(*, entries: list[AuditEntry]) -> int:
    """Write several events in one INSERT (numbered in order), for a batch of 500 reports that
    would otherwise pay a round trip per event. Returns how many were written."""
    if not entries:
        return 0
    created_at = timezone.now()
    rows = _EVENTS.rows(_row(_event(entry, created_at=created_at)) for entry in entries)
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_INSERT, [rows])
    return len(entries)


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
        ("head", "text"),
        ("tail", "text"),
    )
)
_COLUMNS = [name for name in _EVENTS.names if name not in ("head", "tail", "actor_user_id")]
_COLUMN_LIST = ", ".join(["actor_user_id", *_COLUMNS])
# Numbered in the batch's order (jsonb_to_recordset yields the rows as they are in the array);
# the number goes into the canonical bytes too, so it is drawn once per row, in a CTE.
_EVENTS_INSERT = (
    "WITH n AS MATERIALIZED ("  # noqa: S608 - columns are constants
    f" SELECT nextval('saring_audit_event_number') AS sequence, v.* FROM {_EVENTS.source})"
    f" INSERT INTO moderation_auditevent (sequence, canonical, {_COLUMN_LIST})"
    f" SELECT n.sequence, convert_to(n.head || n.sequence || n.tail, 'UTF8'), {_COLUMN_LIST}"
    " FROM n"
)
