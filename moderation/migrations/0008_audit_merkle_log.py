"""The audit trail becomes a Merkle tree (moderation/audit/services/log.py).

Writers stop taking a lock: an event's number comes from a sequence and its transaction id
from PostgreSQL. The events written so far become the tree's first leaves, in their order,
hashed with the chain fields they were written with; the new tables are append-only like the
events.
"""


import django.db.models.deletion
import moderation.models
from django.conf import settings
from django.db import migrations, models

from verifier import saring_verify

APPEND_ONLY_TABLES = (
    "moderation_auditleaf",
    "moderation_auditnode",
    "moderation_audittreehead",
    "moderation_auditcheckpoint",
)

NUMBERS = """
CREATE SEQUENCE saring_audit_event_number;
SELECT setval('saring_audit_event_number', COALESCE(max(sequence), 0) + 1, false)
  FROM moderation_auditevent;
"""

APPEND_ONLY = "".join(
    f"""
CREATE TRIGGER audit_refuse_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION saring_audit_refuse_change();
CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION saring_audit_refuse_change();
"""
    for table in APPEND_ONLY_TABLES
)


def _plain_legacy_event(row) -> bytes:
    (sequence, created_at, actor_kind, actor_user_id, actor_label, action, subject_type,
     subject_id, subject_label, data, ip_address, prev_hash) = row
    return saring_verify.canonical_event({
        "sequence": sequence,
        "created_at": saring_verify.utc_iso(created_at),
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
    })


def seal_existing_events(apps, schema_editor):
    """The events so far, in sequence order, as leaves 0..n-1, with their nodes and a head."""
    from django.utils import timezone

    AuditEvent = apps.get_model("moderation", "AuditEvent")
    AuditLeaf = apps.get_model("moderation", "AuditLeaf")
    AuditNode = apps.get_model("moderation", "AuditNode")
    AuditTreeHead = apps.get_model("moderation", "AuditTreeHead")
    builder = saring_verify.TreeBuilder()
    last = None
    rows = AuditEvent.objects.order_by("sequence").values_list(
        "id", "xid", *saring_verify.EVENT_FIELDS
    )
    leaves, nodes = [], []
    for event_id, xid, *fields in rows.iterator(chunk_size=5000):
        digest = saring_verify.leaf_hash(_plain_legacy_event(fields))
        leaves.append(AuditLeaf(index=builder.size, event_id=event_id, hash=digest))
        nodes += [AuditNode(level=l, index=i, hash=h) for l, i, h in builder.append(digest)]
        last = (xid, fields[0])
        if len(leaves) >= 5000:
            AuditLeaf.objects.bulk_create(leaves)
            AuditNode.objects.bulk_create(nodes)
            leaves, nodes = [], []
    AuditLeaf.objects.bulk_create(leaves)
    AuditNode.objects.bulk_create(nodes)
    if last is not None:
        AuditTreeHead.objects.create(
            size=builder.size,
            root=builder.root,
            frontier=b"".join(builder.frontier),
            last_xid=last[0],
            last_sequence=last[1],
            sealed_at=timezone.now(),
        )


class Migration(migrations.Migration):

    dependencies = [
        ('moderation', '0007_dashboard_compliance_judged'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(NUMBERS, "DROP SEQUENCE saring_audit_event_number"),
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('size', models.BigIntegerField(primary_key=True, serialize=False)),
                ('root', models.BinaryField()),
                ('signed_at', models.DateTimeField()),
                ('note', models.TextField()),
                ('witness', models.CharField(blank=True, max_length=200)),
            ],
        ),
        migrations.CreateModel(
            name='AuditLeaf',
            fields=[
                ('index', models.BigIntegerField(primary_key=True, serialize=False)),
                ('hash', models.BinaryField()),
            ],
        ),
        migrations.CreateModel(
            name='AuditNode',
            fields=[
                ('pk', models.CompositePrimaryKey('level', 'index', blank=True, editable=False, primary_key=True, serialize=False)),
                ('level', models.SmallIntegerField()),
                ('index', models.BigIntegerField()),
                ('hash', models.BinaryField()),
            ],
        ),
        migrations.CreateModel(
            name='AuditTreeHead',
            fields=[
                ('size', models.BigIntegerField(primary_key=True, serialize=False)),
                ('root', models.BinaryField()),
                ('frontier', models.BinaryField()),
                ('last_xid', models.BigIntegerField()),
                ('last_sequence', models.BigIntegerField()),
                ('sealed_at', models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name='auditevent',
            name='xid',
            field=models.BigIntegerField(db_default=moderation.models._CurrentTransactionId(), editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='sequence',
            field=models.BigIntegerField(db_default=moderation.models._NextAuditNumber(), unique=True),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['xid', 'sequence'], name='audit_xid_idx'),
        ),
        migrations.AddField(
            model_name='auditleaf',
            name='event',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='leaf', to='moderation.auditevent'),
        ),
        migrations.RunSQL(
            APPEND_ONLY,
            "".join(
                f"DROP TRIGGER audit_refuse_update_delete ON {t};"
                f"DROP TRIGGER audit_refuse_truncate ON {t};"
                for t in APPEND_ONLY_TABLES
            ),
        ),
        migrations.RunPython(seal_existing_events, migrations.RunPython.noop),
    ]
