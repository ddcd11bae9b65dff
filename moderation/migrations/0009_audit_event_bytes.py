"""Every audit event keeps the bytes its leaf hashes (`canonical`), bound to its columns by a
CHECK constraint: verifying the log then reads and hashes the bytes instead of rebuilding them
from a dozen columns, and nothing can change a column without changing the sealed bytes.

The events written so far get the bytes they were sealed with (migration 0008's form); the
migration checks each sealed one against its leaf before the constraint goes on.
"""

import hashlib
import json

from django.db import migrations, models

from moderation.models import EVENT_IS_ITS_BYTES, EVENT_IS_ITS_BYTES_CHECK
from verifier import saring_verify

FIELDS = saring_verify.EVENT_FIELDS


def _bytes(fields) -> bytes:
    values = dict(zip(FIELDS, fields, strict=True))
    values["created_at"] = saring_verify.utc_iso(values["created_at"])
    if isinstance(values["data"], str):  # a raw cursor reads jsonb as text
        values["data"] = json.loads(values["data"])
    return saring_verify.canonical_event(values)


def keep_event_bytes(apps, schema_editor):
    connection = schema_editor.connection
    columns = ", ".join(f"e.{name}" for name in FIELDS)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE moderation_auditevent DISABLE TRIGGER USER")
        cursor.execute("SELECT max(id) FROM moderation_auditevent")
        (last,) = cursor.fetchone()
        start = 0
        while last is not None and start <= last:
            cursor.execute(
                f"SELECT e.id, l.hash, {columns} FROM moderation_auditevent e"  # noqa: S608
                " LEFT JOIN moderation_auditleaf l ON l.event_id = e.id"
                " WHERE e.id >= %s AND e.id < %s",
                [start, start + 5000],
            )
            ids, canonical = [], []
            for event_id, sealed, *fields in cursor.fetchall():
                data = _bytes(fields)
                if sealed is not None and hashlib.sha256(b"\x00" + data).digest() != bytes(sealed):
                    raise RuntimeError(
                        f"audit event {event_id} no longer reads as it was sealed: run"
                        " audit_verify on the previous release and restore it before migrating"
                    )
                ids.append(event_id)
                canonical.append(data)
            if ids:
                cursor.execute(
                    "UPDATE moderation_auditevent e SET canonical = v.canonical"
                    " FROM unnest(%s::bigint[], %s::bytea[]) AS v(id, canonical)"
                    " WHERE e.id = v.id",
                    [ids, canonical],
                )
            start += 5000
        cursor.execute("ALTER TABLE moderation_auditevent ENABLE TRIGGER USER")


class Migration(migrations.Migration):
    dependencies = [("moderation", "0008_audit_merkle_log")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE moderation_auditevent ADD COLUMN canonical bytea",
                    "ALTER TABLE moderation_auditevent DROP COLUMN canonical",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="canonical",
                    field=models.BinaryField(editable=False),
                    preserve_default=False,
                ),
            ],
        ),
        migrations.RunPython(keep_event_bytes, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(
            "ALTER TABLE moderation_auditevent ALTER COLUMN canonical SET NOT NULL;"
            f" ALTER TABLE moderation_auditevent ADD CONSTRAINT {EVENT_IS_ITS_BYTES}"
            f" CHECK ({EVENT_IS_ITS_BYTES_CHECK})",
            f"ALTER TABLE moderation_auditevent DROP CONSTRAINT {EVENT_IS_ITS_BYTES}",
        ),
    ]
