"""The audit trail is append-only, hash-chained, and tells where it was tampered with."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from moderation.audit.services.chain import (
    GENESIS_HASH,
    Actor,
    audit_chain_verify,
    audit_record,
)
from moderation.models import AuditEvent, Case
from tests.support.factories import CaseFactory, UserFactory


def record_some(count: int, user=None) -> list[AuditEvent]:
    actor = Actor.staff(user) if user else Actor.system()
    return [
        audit_record(
            actor=actor,
            action="test.event",
            data={"n": n, "text": "é ünïcode"},
            ip_address="10.0.0.1",
        )
        for n in range(count)
    ]


@pytest.mark.django_db
def test_it_chains_each_event_to_the_one_before():
    events = record_some(3, UserFactory())
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    report = audit_chain_verify()
    assert report.intact and report.events == 3
    assert (report.head_sequence, report.head_hash) == (3, events[2].hash)


@pytest.mark.django_db
def test_it_records_the_subject_as_it_reads_at_that_moment():
    case = CaseFactory()
    event = audit_record(
        actor=Actor.system(),
        action="case.touched",
        subject=case,
        data={"before": {"status": "open"}, "after": {"status": "in_review"}},
    )
    assert (event.subject_type, event.subject_id, event.subject_label) == (
        "moderation.case",
        str(case.pk),
        f"Case {case.pk}",
    )
    event.refresh_from_db()
    assert event.data == {"before": {"status": "open"}, "after": {"status": "in_review"}}
    assert audit_chain_verify().intact


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE moderation_auditevent SET action = 'forged'",
        "DELETE FROM moderation_auditevent",
        "TRUNCATE moderation_auditevent CASCADE",
    ],
)
def test_the_database_refuses_to_change_an_event(statement):
    record_some(2)
    with connection.cursor() as cursor:
        # Deferred foreign-key checks must run before the table can be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE moderation_auditevent ENABLE TRIGGER USER")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 2


def tamper(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE moderation_auditevent DISABLE TRIGGER USER")
        cursor.execute(statement, params)
        cursor.execute("ALTER TABLE moderation_auditevent ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_it_finds_a_row_changed_behind_its_back():
    record_some(6)
    tamper("UPDATE moderation_auditevent SET data = %s WHERE sequence = 4", ['{"n": 99}'])
    report = audit_chain_verify()
    assert report.broken_at == 4
    assert "content does not match" in report.problem


@pytest.mark.django_db
def test_it_finds_a_rewritten_row_whose_hash_was_recomputed():
    """A forger who recomputes the row's own hash still breaks the next row's link."""
    events = record_some(5)
    tamper("UPDATE moderation_auditevent SET hash = %s WHERE sequence = 2", ["f" * 64])
    report = audit_chain_verify()
    assert report.broken_at == 2
    assert events[2].prev_hash != "f" * 64


@pytest.mark.django_db
def test_it_finds_a_deleted_row():
    record_some(5)
    tamper("DELETE FROM moderation_auditevent WHERE sequence = 3", [])
    report = audit_chain_verify()
    assert report.broken_at == 3
    assert "missing" in report.problem


@pytest.mark.django_db
def test_the_command_names_the_first_broken_link():
    record_some(4)
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "Audit chain intact: 4 events" in out.getvalue()
    tamper("UPDATE moderation_auditevent SET actor_label = 'someone else' WHERE sequence = 2", [])
    with pytest.raises(CommandError, match="BROKEN at sequence 2"):
        call_command("verify_audit_chain", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_failed_audit_write_fails_the_change():
    case = CaseFactory()
    with pytest.raises(DatabaseError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="in_review")
        # PostgreSQL refuses a NUL character in jsonb: the audit write fails...
        audit_record(
            actor=Actor.system(),
            action="case.claimed",
            subject=case,
            data={"note": "bad\u0000byte"},
        )
    case.refresh_from_db()
    assert case.status == "open"  # ...and the change went with it
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_writers_leave_one_unbroken_chain():
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with transaction.atomic():
                    audit_record(
                        actor=Actor.system(f"writer-{n}"),
                        action="test.concurrent",
                        data={"writer": n, "i": i},
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == (
        list(range(1, 201))
    )
    report = audit_chain_verify()
    assert report.intact and report.events == 200
