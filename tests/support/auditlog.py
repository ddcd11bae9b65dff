"""Helpers for tests of the audit log: seal everything written so far, and tamper with the
tables the way an attacker who owns the database could."""

from __future__ import annotations

from django.db import connection

from moderation.audit.services import log
from moderation.models import AuditEvent

AUDIT_TABLES = (
    "moderation_auditevent",
    "moderation_auditleaf",
    "moderation_auditnode",
    "moderation_audittreehead",
    "moderation_auditcheckpoint",
)


def seal_all() -> int:
    """Seal every committed event (a transactional test: the sequencer needs commits)."""
    total = 0
    while sealed := log.seal_pending():
        total += sealed
    return total


def assert_every_event_sealed() -> None:
    seal_all()
    report = log.log_verify()
    assert report.intact, report.problem
    assert report.leaves == AuditEvent.objects.count()


def as_owner_with_triggers_off(*statements: tuple[str, list]) -> None:
    """What the table owner can do: switch the append-only triggers off and write."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def rewrite_event(event_id: int, **changes) -> tuple[str, list]:
    """The UPDATE an owner who rewrites an event consistently would run (its bytes and its
    columns together, so the CHECK constraint that binds them holds); for
    `as_owner_with_triggers_off`."""
    import json

    from verifier import saring_verify

    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM moderation_auditevent WHERE id = %s", [event_id])
        fields = json.loads(bytes(cursor.fetchone()[0]))
    fields.update(changes)
    columns = ", ".join(
        f"{name} = %s::jsonb" if name == "data" else f"{name} = %s" for name in changes
    )
    values = [json.dumps(v) if name == "data" else v for name, v in changes.items()]
    return (
        f"UPDATE moderation_auditevent SET canonical = %s, {columns} WHERE id = %s",  # noqa: S608
        [saring_verify.canonical_event(fields), *values, event_id],
    )
