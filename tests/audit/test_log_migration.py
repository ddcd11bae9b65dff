"""Migrations 0008 and 0009: the events of the old hash chain become the Merkle tree's first
leaves, in their order, keep the bytes they were sealed with, and the log verifies across old
and new events."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from moderation.audit import Actor, audit_record
from moderation.audit.services import log
from moderation.models import AuditLeaf
from tests.support.auditlog import seal_all

BEFORE = ("moderation", "0007_dashboard_compliance_judged")


def migrate_to(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def chain_event(sequence: int, prev: str) -> tuple[str, list]:
    """An event as the old code wrote it: its own hash and its predecessor's."""
    created = datetime(2026, 1, sequence, 8, 0, 0, 123456, tzinfo=UTC)
    data = {"n": sequence, "text": "é"}
    fields = {
        "sequence": sequence,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_kind": "system",
        "actor_user_id": None,
        "actor_label": "system",
        "action": "test.legacy",
        "subject_type": "",
        "subject_id": "",
        "subject_label": "",
        "data": data,
        "ip_address": "",
        "prev_hash": prev,
    }
    digest = hashlib.sha256(
        json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    return digest, [sequence, created, json.dumps(data), prev, digest]


@pytest.mark.django_db(transaction=True)
def test_the_chain_events_become_the_first_leaves_in_order_and_the_log_verifies(settings, tmp_path):
    settings.AUDIT_LEAF_FILE = str(tmp_path / "leaves.bin")
    migrate_to([BEFORE])
    try:
        prev = "0" * 64
        with connection.cursor() as cursor:
            for sequence in (1, 2, 3, 4, 5):
                prev, row = chain_event(sequence, prev)
                cursor.execute(
                    "INSERT INTO moderation_auditevent (sequence, created_at, actor_kind,"
                    " actor_label, action, subject_type, subject_id, subject_label, data,"
                    " ip_address, prev_hash, hash) VALUES (%s, %s, 'system', 'system',"
                    " 'test.legacy', '', '', '', %s, '', %s, %s)",
                    row,
                )
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
    leaves = list(AuditLeaf.objects.order_by("index").values_list("index", "event__sequence"))
    assert leaves == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert log.log_verify().intact
    new = audit_record(actor=Actor.system(), action="test.after")
    assert new.sequence == 6  # numbering goes on from the chain's
    assert seal_all() == 1
    report = log.log_verify()
    assert report.intact and report.leaves == 6
