"""The audit log: events written without a lock, sealed as Merkle leaves in commit-safe order,
refused any change by the database, and tampering found against a kept checkpoint."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from rq import SimpleWorker

from moderation.audit import Actor, AuditEntry, audit_record, audit_record_many
from moderation.audit.services import checkpoints, log
from moderation.cases.services import DecisionInput, case_claim_next, case_decide
from moderation.models import EVENT_IS_ITS_BYTES_CHECK, AuditEvent, AuditLeaf, Case
from moderation.takedowns.services import proposal_approve
from tests.support.auditlog import (
    AUDIT_TABLES,
    as_owner_with_triggers_off,
    rewrite_event,
    seal_all,
)
from tests.support.factories import CaseFactory, LegalBasisFactory
from tests.support.intake import report_body
from verifier import saring_verify as tree


def record_some(count: int) -> list[AuditEvent]:
    return [
        audit_record(
            actor=Actor.system(),
            action="test.event",
            data={"n": n, "text": "é ünïcode"},
            ip_address="10.0.0.1",
        )
        for n in range(count)
    ]


@pytest.fixture
def log_files(settings, tmp_path):
    """A signing key and the two files outside PostgreSQL, in a directory of this test."""
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    settings.AUDIT_LEAF_FILE = str(tmp_path / "leaves.bin")
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.txt")
    settings.AUDIT_WITNESS_URL = ""
    checkpoints.create_signing_key(settings.AUDIT_SIGNING_KEY_FILE)
    return tmp_path


def kept_checkpoint(tmp_path) -> str:
    """Seal everything, sign a checkpoint and keep it in a file of its own, as an outsider would."""
    seal_all()
    checkpoint = checkpoints.checkpoint_if_due(force=True)
    assert checkpoint is not None
    path = tmp_path / "kept-checkpoint.txt"
    path.write_text(checkpoint.note, encoding="utf-8")
    return str(path)


def verify_against(path: str) -> str:
    out = io.StringIO()
    call_command("audit_verify", checkpoint=path, stdout=out)
    return out.getvalue()


def rebuild_tree_as_attacker(order: list[int] | None = None) -> None:
    """What an owner who rewrote events would do next: recompute every leaf, node and head
    from the events (in `order` of event ids, default: as sealed), so the database agrees."""
    ids = order or list(AuditLeaf.objects.order_by("index").values_list("event_id", flat=True))
    builder = tree.TreeBuilder()
    statements = [(f"DELETE FROM {t}", []) for t in AUDIT_TABLES[1:4]]  # noqa: S608
    for event_id in ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT canonical FROM moderation_auditevent WHERE id = %s", [event_id])
            digest = tree.leaf_hash(bytes(cursor.fetchone()[0]))
        statements.append(
            (
                "INSERT INTO moderation_auditleaf (index, event_id, hash) VALUES (%s, %s, %s)",
                [builder.size, event_id, digest],
            )
        )
        for level, index, value in builder.append(digest):
            statements.append(
                (
                    "INSERT INTO moderation_auditnode (level, index, hash) VALUES (%s, %s, %s)",
                    [level, index, value],
                )
            )
    statements.append(
        (
            "INSERT INTO moderation_audittreehead (size, root, frontier, last_xid,"
            " last_sequence, sealed_at) SELECT %s, %s, %s, max(xid), max(sequence), now()"
            " FROM moderation_auditevent",
            [builder.size, builder.root, b"".join(builder.frontier)],
        )
    )
    as_owner_with_triggers_off(*statements)


# --- Writing: no lock -------------------------------------------------------------------------

STRONG_TABLE_LOCKS = (
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)


@pytest.mark.django_db
def test_intake_decisions_and_approvals_take_no_advisory_or_table_lock(
    ministry_token, moderator, supervisor
):
    """Everything below runs in this test's one transaction, so every lock taken on the way
    is still held at the end: none may be advisory, none stronger than a row writer's."""
    _, token = ministry_token
    items = [report_body(f"L-{i}", account={"identifier": f"akun{i}"}) for i in range(20)]
    response = Client().post(
        "/api/v1/reports/batch/",
        data=json.dumps({"reports": items}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200 and response.json()["created"] == 20
    basis = LegalBasisFactory()
    claimed = case_claim_next(moderator=moderator)
    decision = case_decide(
        case_id=claimed.pk,
        version=claimed.version,
        user=moderator,
        data=DecisionInput(
            outcome="propose_takedown",
            rationale="Price list for paid sex.",
            category="prostitution",
            legal_basis_id=basis.pk,
            urgency="normal",
        ),
    )
    proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    assert AuditEvent.objects.filter(action="approval.approved").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT locktype, mode, relation::regclass::text FROM pg_locks"
            " WHERE pid = pg_backend_pid() AND granted AND (locktype = 'advisory'"
            " OR (locktype = 'relation' AND mode = ANY(%s)))",
            [list(STRONG_TABLE_LOCKS)],
        )
        assert cursor.fetchall() == []


@contextmanager
def event_written_in_an_open_transaction(actor: str):
    """An event written by another connection whose transaction stays open for the block and
    commits at its end."""
    opened, finish = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=Actor.system(actor), action=f"test.{actor}")
                opened.set()
                finish.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert opened.wait(10)
    try:
        yield
    finally:
        finish.set()
        thread.join(20)


@pytest.mark.django_db(transaction=True)
def test_a_writer_never_waits_for_another_writers_open_transaction():
    with (
        event_written_in_an_open_transaction("slow"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL lock_timeout = '500ms'")
        audit_record(actor=Actor.system("fast"), action="test.fast")
        audit_record_many(entries=[AuditEntry(actor=Actor.system(), action="test.many")] * 3)
    assert AuditEvent.objects.count() == 5


# --- Sealing ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sealing_makes_every_committed_event_one_leaf_and_the_tree_verifies(log_files):
    events = record_some(7)
    assert seal_all() == 7
    leaves = list(AuditLeaf.objects.order_by("index").values_list("event_id", flat=True))
    assert leaves == [e.pk for e in events]
    assert seal_all() == 0  # nothing twice
    report = log.log_verify()
    assert report.intact and report.leaves == 7
    assert report.root == log.latest_head().root


TRICKY_DATA = [
    {"score": 1e-07, "big": 2**70, "ratio": 0.1},
    {"text": 'quote " back \\ \x01\x1f\x7f \u2028 é 中 😀', "nested": {"b": [1], "a": None}},
]


@pytest.mark.django_db(transaction=True)
def test_an_event_keeps_exactly_its_canonical_bytes_and_its_leaf_hashes_them(log_files):
    """What the writer stores as the event's bytes is the definition (saring_verify's
    canonical form of its columns, number included), through one event or a batch, for
    floats' exponents, big integers, control characters, quotes and non-ASCII alike."""
    events = [audit_record(actor=Actor.system(), action="test.tricky", data=d) for d in TRICKY_DATA]
    audit_record_many(
        entries=[
            AuditEntry(actor=Actor.system("batch"), action="test.batch", data=d)
            for d in TRICKY_DATA
        ]
    )
    seal_all()
    rows = AuditEvent.objects.order_by("sequence").values_list(
        "canonical", "leaf__hash", *tree.EVENT_FIELDS
    )
    assert len(rows) == 4 and rows[0][2] == events[0].sequence
    for canonical, leaf, *fields in rows:
        values = dict(zip(tree.EVENT_FIELDS, fields, strict=True))
        values["created_at"] = tree.utc_iso(values["created_at"])
        assert bytes(canonical) == tree.canonical_event(values)
        assert bytes(leaf) == tree.leaf_hash(bytes(canonical))
    assert log.log_verify().intact


@pytest.mark.django_db(transaction=True)
def test_an_events_columns_cannot_differ_from_its_bytes_without_verify_saying_so(log_files):
    """The CHECK constraint refuses a column changed without the bytes, even to the owner with
    the triggers off; dropping it, re-adding it unvalidated or weakened is reported."""
    try:
        events = record_some(3)
        seal_all()
        with pytest.raises(IntegrityError, match="audit_event_is_its_bytes"):
            as_owner_with_triggers_off(
                ("UPDATE moderation_auditevent SET actor_label = 'x' WHERE id = %s", [events[1].pk])
            )
        assert log.log_verify().intact
        as_owner_with_triggers_off(
            ("ALTER TABLE moderation_auditevent DROP CONSTRAINT audit_event_is_its_bytes", []),
            ("UPDATE moderation_auditevent SET actor_label = 'x' WHERE id = %s", [events[1].pk]),
        )
        report = log.log_verify()
        assert not report.intact and report.bad_leaf is None
        assert report.problem == (
            "the events' columns are no longer bound to their sealed bytes (constraint gone)"
        )
        with pytest.raises(CommandError, match="no longer bound to their sealed bytes"):
            call_command("audit_verify", stdout=io.StringIO())
        as_owner_with_triggers_off(
            (
                "ALTER TABLE moderation_auditevent ADD CONSTRAINT audit_event_is_its_bytes"
                f" CHECK ({EVENT_IS_ITS_BYTES_CHECK}) NOT VALID",
                [],
            )
        )
        assert "constraint not validated" in log.log_verify().problem
        as_owner_with_triggers_off(
            ("ALTER TABLE moderation_auditevent DROP CONSTRAINT audit_event_is_its_bytes", []),
            (
                "ALTER TABLE moderation_auditevent ADD CONSTRAINT audit_event_is_its_bytes"
                " CHECK (canonical IS NOT NULL)",
                [],
            ),
        )
        assert log.log_verify().problem == (
            "the events' columns are bound to their bytes by a changed constraint"
        )
    finally:  # the schema outlives the test: put the real constraint back
        as_owner_with_triggers_off(
            (
                "ALTER TABLE moderation_auditevent DROP CONSTRAINT IF EXISTS"
                " audit_event_is_its_bytes",
                [],
            ),
            (
                "UPDATE moderation_auditevent"
                " SET actor_label = convert_from(canonical, 'UTF8')::jsonb ->> 'actor_label'",
                [],
            ),
            (
                "ALTER TABLE moderation_auditevent ADD CONSTRAINT audit_event_is_its_bytes"
                f" CHECK ({EVENT_IS_ITS_BYTES_CHECK})",
                [],
            ),
        )


@pytest.mark.django_db(transaction=True)
def test_an_event_of_a_transaction_still_open_waits_and_is_sealed_after_it_commits(log_files):
    with event_written_in_an_open_transaction("late"):
        record_some(3)  # begun and committed after the late one began: a larger xid
        assert seal_all() == 0  # the late transaction is older and open: nothing is final yet
    assert seal_all() == 4
    actions = list(AuditLeaf.objects.order_by("index").values_list("event__action", flat=True))
    assert actions == ["test.late", "test.event", "test.event", "test.event"]


@pytest.mark.django_db(transaction=True)
def test_twenty_writers_committing_out_of_order_all_become_leaves_exactly_once(log_files):
    """Twenty transactions write, then commit in a shuffled order while the sequencer seals
    over and over; a transaction rolled back leaves nothing."""
    writers = 20
    written, errors = [], []
    ready = threading.Barrier(writers + 1)
    turn = [threading.Event() for _ in range(writers)]
    order = list(range(writers))
    random.Random(7).shuffle(order)
    stop = threading.Event()

    def writer(n: int) -> None:
        try:
            with transaction.atomic():
                event = audit_record(actor=Actor.system(f"w{n}"), action="test.race", data={"n": n})
                ready.wait(20)
                turn[n].wait(20)
                written.append(event.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def sequencer() -> None:
        try:
            while not stop.is_set():
                log.seal_pending(limit=3)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    ready.wait(20)
    sealer = threading.Thread(target=sequencer)
    sealer.start()
    for n in order:  # commit one by one, in a shuffled order, the sequencer sealing meanwhile
        turn[n].set()
        threads[n].join(20)
        time.sleep(0.01)
    stop.set()
    sealer.join(20)
    assert not errors
    seal_all()
    leaves = list(AuditLeaf.objects.order_by("index").values_list("event_id", "event__xid"))
    assert sorted(event_id for event_id, _ in leaves) == sorted(written)
    assert [xid for _, xid in leaves] == sorted(xid for _, xid in leaves)
    assert log.log_verify().intact


# --- Append-only ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", AUDIT_TABLES[:4])
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}", "TRUNCATE {t} CASCADE"]
)
def test_the_database_refuses_to_change_any_audit_table(log_files, table, statement):
    record_some(2)
    seal_all()
    column = {"moderation_auditevent": "action"}.get(
        table, "hash" if "head" not in table else "root"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        (before,) = cursor.fetchone()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(t=table, c=column))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone() == (before,)


@pytest.mark.django_db
def test_a_failed_audit_write_fails_the_change():
    case = CaseFactory()
    with pytest.raises(DatabaseError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="in_review")
        # PostgreSQL refuses a NUL character in jsonb: the audit write fails...
        audit_record(
            actor=Actor.system(), action="case.claimed", subject=case, data={"note": "bad\u0000"}
        )
    case.refresh_from_db()
    assert case.status == "open"  # ...and the change went with it
    assert AuditEvent.objects.count() == 0


# --- Tampering, found against a kept checkpoint ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deleting_the_newest_event_is_found_at_its_leaf(log_files):
    events = record_some(6)
    kept = kept_checkpoint(log_files)
    newest = events[-1].pk
    as_owner_with_triggers_off(
        ("DELETE FROM moderation_auditleaf WHERE event_id = %s", [newest]),
        ("DELETE FROM moderation_auditevent WHERE id = %s", [newest]),
    )
    rebuild_tree_as_attacker()
    assert log.log_verify().intact  # the database alone agrees with itself...
    with pytest.raises(CommandError, match="BROKEN at leaf 5: leaf 5 is missing"):
        verify_against(kept)  # ...the checkpoint does not


@pytest.mark.django_db(transaction=True)
def test_rewriting_an_event_and_recomputing_every_later_hash_is_found_at_its_leaf(log_files):
    events = record_some(9)
    kept = kept_checkpoint(log_files)
    as_owner_with_triggers_off(rewrite_event(events[3].pk, data={"n": 99}))
    with pytest.raises(CommandError, match="BROKEN at leaf 3"):
        call_command("audit_verify", stdout=io.StringIO())  # the stored leaf still differs
    rebuild_tree_as_attacker()
    assert log.log_verify().intact
    with pytest.raises(CommandError, match="BROKEN at leaf 3: leaf 3 is not the event"):
        verify_against(kept)


@pytest.mark.django_db(transaction=True)
def test_reordering_two_events_is_found_at_the_first_of_them(log_files):
    events = record_some(8)
    kept = kept_checkpoint(log_files)
    ids = [e.pk for e in events]
    ids[2], ids[6] = ids[6], ids[2]
    rebuild_tree_as_attacker(order=ids)
    assert log.log_verify().intact
    with pytest.raises(CommandError, match="BROKEN at leaf 2"):
        verify_against(kept)


@pytest.mark.django_db(transaction=True)
def test_an_untouched_log_extends_the_kept_checkpoint_and_later_events_too(log_files):
    record_some(5)
    kept = kept_checkpoint(log_files)
    record_some(4)
    seal_all()
    out = verify_against(kept)
    assert "Audit log intact: 9 leaves" in out
    assert "extends the checkpoint at tree size 5" in out


@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_signed_by_another_key_or_changed_is_refused(log_files, tmp_path):
    record_some(3)
    kept = kept_checkpoint(log_files)
    note = Path(kept).read_text(encoding="utf-8")
    changed = tmp_path / "changed.txt"
    changed.write_text(note.replace("\n3\n", "\n2\n", 1), encoding="utf-8")
    with pytest.raises(CommandError, match="signature does not verify"):
        verify_against(str(changed))
    other = tmp_path / "other.key"
    checkpoints.create_signing_key(other)
    with pytest.raises(CommandError, match="not signed by"):
        call_command(
            "audit_verify",
            checkpoint=kept,
            key=tree.verifier_key("saring.local/audit-log", b"\x01" * 32),
            stdout=io.StringIO(),
        )


# --- Checkpoints and proofs -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_checkpoints_are_signed_notes_anyone_can_check_and_are_kept_outside_the_database(
    log_files, settings
):
    record_some(3)
    seal_all()
    first = checkpoints.checkpoint_if_due(force=True)
    assert checkpoints.checkpoint_if_due() is None  # nothing new: nothing to sign
    record_some(2)
    seal_all()
    second = checkpoints.checkpoint_if_due(force=True)
    key = checkpoints.verifier_key()
    opened = [tree.open_checkpoint(c.note, key) for c in (first, second)]
    assert [c.size for c in opened] == [3, 5]
    assert opened[1].root == log.latest_head().root
    assert opened[1].timestamp is not None
    kept = Path(settings.AUDIT_CHECKPOINT_FILE).read_text(encoding="utf-8")
    assert kept == first.note + "\n" + second.note + "\n"
    assert Path(settings.AUDIT_LEAF_FILE).read_bytes() == b"".join(
        bytes(h) for h in AuditLeaf.objects.order_by("index").values_list("hash", flat=True)
    )
    proof = log.consistency_proof(3, 5)
    assert tree.verify_consistency(3, 5, opened[0].root, opened[1].root, proof)
    for leaf in AuditLeaf.objects.all():
        path = log.inclusion_proof(leaf.index, 5)
        assert tree.verify_inclusion(leaf.index, 5, bytes(leaf.hash), path, opened[1].root)
        assert not tree.verify_inclusion(leaf.index, 5, b"\x00" * 32, path, opened[1].root)


def test_the_tree_matches_rfc_9162_for_every_size_and_proof():
    leaves = [tree.leaf_hash(str(i).encode()) for i in range(40)]

    def mth(items):
        if len(items) <= 1:
            return items[0] if items else tree.EMPTY_ROOT
        k = tree.split_point(len(items))
        return tree.node_hash(mth(items[:k]), mth(items[k:]))

    def stored(node):
        level, index = node
        return mth(leaves[index << level : (index + 1) << level])

    builder = tree.TreeBuilder()
    for n in range(1, len(leaves) + 1):
        builder.append(leaves[n - 1])
        root = mth(leaves[:n])
        assert builder.root == tree.root_of(leaves[:n]) == root
        for m in range(n):
            path = [
                tree.root_from_frontier([stored(x) for x in g]) for g in tree.inclusion_nodes(m, n)
            ]
            assert tree.verify_inclusion(m, n, leaves[m], path, root)
        for m in range(1, n):
            proof = [
                tree.root_from_frontier([stored(x) for x in g])
                for g in tree.consistency_nodes(m, n)
            ]
            assert tree.verify_consistency(m, n, mth(leaves[:m]), root, proof)
            assert not tree.verify_consistency(m, n, mth(leaves[1 : m + 1]), root, proof)


def test_the_pure_python_ed25519_agrees_with_cryptography():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for size in (0, 1, 64, 1000):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        message = bytes(range(256)) * (size // 256) + bytes(size % 256)
        signature = key.sign(message)
        assert tree.ed25519_verify(public, message, signature)
        assert not tree.ed25519_verify(public, message + b"!", signature)
        forged = bytearray(signature)
        forged[40] ^= 1
        assert not tree.ed25519_verify(public, message, bytes(forged))


@pytest.mark.django_db(transaction=True)
def test_the_witness_accepts_a_growing_log_and_refuses_a_rewritten_one(log_files, settings):
    from devtools.witness import Witness, serve
    from scripts.dev import free_port

    witness = Witness(log_key=checkpoints.verifier_key(), store=log_files / "witness")
    port = free_port()
    server = serve(witness, "127.0.0.1", port)
    settings.AUDIT_WITNESS_URL = f"http://127.0.0.1:{port}"
    try:
        events = record_some(4)
        seal_all()
        assert checkpoints.checkpoint_if_due(force=True).witness.startswith("accepted: \u2014 ")
        record_some(3)
        seal_all()
        assert checkpoints.checkpoint_if_due(force=True).witness.startswith("accepted")
        assert witness.size == 7 and witness.root == log.latest_head().root
        # An owner rewrites event 2 and the tree after it, adds one event and, holding the
        # signing key, signs the result: the witness cannot be shown it extends what it saw.
        as_owner_with_triggers_off(rewrite_event(events[1].pk, data={}))
        rebuild_tree_as_attacker()
        record_some(1)
        seal_all()
        answer = checkpoints.checkpoint_if_due(force=True).witness
        assert answer.startswith("refused: HTTP 422"), answer
        assert witness.size == 7
    finally:
        server.shutdown()


# --- The auditor's page -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_auditor_downloads_the_checkpoint_and_later_learns_the_log_was_rewritten(
    log_files, auditor, client_for
):
    events = record_some(5)
    seal_all()
    checkpoints.checkpoint_if_due(force=True)
    client = client_for(auditor)
    page = client.get("/audit/chain/")
    assert page.status_code == 200
    assert checkpoints.verifier_key() in page.content.decode()
    kept = client.get("/audit/chain/checkpoint/")
    assert kept.status_code == 200
    assert kept["Content-Disposition"] == 'attachment; filename="saring-checkpoint-5.txt"'
    note = kept.content

    from django.core.files.uploadedfile import SimpleUploadedFile

    queue = django_rq.get_queue("default")
    queue.empty()

    def verify_with(content: bytes):
        """Upload, see the verification queued and polling, let a real worker run it."""
        upload = SimpleUploadedFile("kept.txt", content, content_type="text/plain")
        queued = client.post("/audit/chain/", {"checkpoint": upload})
        if queued.status_code != 302:
            return queued
        assert queued["Location"].startswith("/audit/chain/verifications/")
        waiting = client.get(queued["Location"]).content.decode()
        assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        done = client.get(queued["Location"], HTTP_HX_REQUEST="true")
        assert 'data-status="finished"' in done.content.decode()
        assert "hx-trigger" not in done.content.decode()
        return done

    intact = verify_with(note)
    assert intact.status_code == 200 and "The log is intact." in intact.content.decode()
    assert "It extends your checkpoint at tree size 5" in intact.content.decode()
    as_owner_with_triggers_off(rewrite_event(events[3].pk, actor_label="someone"))
    rebuild_tree_as_attacker()
    broken = verify_with(note).content.decode()
    assert "The log is broken at leaf 3" in broken
    forged = verify_with(note.replace(b"\n5\n", b"\n4\n", 1))
    assert forged.status_code == 400
    assert "This is not a checkpoint of this log" in forged.content.decode()
    assert "signature does not verify" in forged.content.decode()
    assert queue.count == 0  # refused at once, nothing queued
    assert (
        client.get("/audit/chain/verifications/7d9f3c1e-0b6a-4a53-9a43-2f6f3f1d2c11/").status_code
        == 404
    )
    htmx = client.post("/audit/chain/", {}, HTTP_HX_REQUEST="true")  # the form swaps in place
    assert htmx.status_code == 200 and "<html" not in htmx.content.decode()
    assert 'data-status="queued"' in htmx.content.decode()
    assert 'hx-get="/audit/chain/verifications/' in htmx.content.decode()
    assert queue.count == 1


@pytest.mark.django_db(transaction=True)
def test_a_verification_that_cannot_be_queued_says_so(auditor, client_for, settings):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}}
    response = client_for(auditor).post("/audit/chain/", {})
    assert response.status_code == 503
    assert "the job queue is not reachable" in response.content.decode()


# --- Exports anyone can check ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_standalone_verifier_accepts_a_genuine_export_and_rejects_a_changed_row(
    log_files, auditor, client_for
):
    import subprocess
    import sys

    from moderation.audit.services.exports import export_request, export_run
    from tests.support.audit import at, decision_on
    from tests.support.factories import PlatformFactory

    platform = PlatformFactory(slug="michat")
    for hour in range(3):
        decision_on(platform, when=at(hour))
    export = export_run(
        export_id=export_request(user=auditor, filters={}, format="csv", include_contacts=False).pk
    )
    client = client_for(auditor)
    assert client.get(f"/audit/exports/{export.pk}/proof/").status_code == 409  # not sealed
    seal_all()
    checkpoints.checkpoint_if_due(force=True)
    bundle = client.get(f"/audit/exports/{export.pk}/proof/")
    assert bundle.status_code == 200
    genuine = client.get(f"/audit/exports/{export.pk}/download/")
    data = b"".join(genuine.streaming_content)
    (log_files / "export.csv").write_bytes(data)
    (log_files / "bundle.json").write_bytes(bundle.content)
    changed = data.replace(b"propose_takedown", b"dismiss", 1)
    assert changed != data
    (log_files / "changed.csv").write_bytes(changed)

    def verify(name: str) -> subprocess.CompletedProcess:
        # Run as an outsider would: the one file, by path, with no Saring on sys.path.
        return subprocess.run(  # noqa: S603 - our interpreter, our file
            [
                sys.executable,
                "-I",
                str(Path(tree.__file__)),
                "export",
                checkpoints.verifier_key(),
                str(log_files / name),
                str(log_files / "bundle.json"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    accepted = verify("export.csv")
    assert accepted.returncode == 0 and accepted.stdout.startswith("OK: export"), accepted
    rejected = verify("changed.csv")
    assert rejected.returncode == 1
    assert "REJECTED: the export file is not the one the log recorded" in rejected.stdout
