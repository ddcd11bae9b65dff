"""The audit log as a Merkle tree (RFC 9162 shape): sealing, proofs and verification.

Writers insert events with no lock (services/chain.py). One sequencer (`manage.py
audit_sequencer`, its own process) turns them into leaves:

- Each event records the id of the transaction that wrote it (`xid`). In one REPEATABLE READ
  snapshot the sequencer reads `xmin`, the oldest transaction still running anywhere; every
  transaction with a smaller id has ended, so its events are either all visible in this
  snapshot or never will be (it rolled back). No transaction that is running, or starts
  later, can have an id below `xmin`.
- It seals the visible events after the last one it sealed, ordered by (xid, sequence), up to
  `xmin` (exclusive) and a batch size, and records the last (xid, sequence) in the new tree
  head. Everything at or before that point is final: an event that commits late has an id
  at or above the `xmin` of every earlier sealing, so it is sealed by a later one — never
  skipped, never twice (the leaf's event is unique).
- Leaves are therefore in the order of the writing transactions' ids: a transaction that
  committed before another began (so could be seen by it) always comes first.

An event keeps the bytes its leaf hashes (`canonical`), bound to its columns by a CHECK
constraint, so sealing and verifying hash those bytes and never rebuild them from the columns.

Leaves, the complete subtrees above them (for O(log n) proofs), tree heads and checkpoints are
append-only tables; the leaf hashes are also appended to a file outside PostgreSQL, so a
verification can name the first leaf that differs from what was sealed.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from moderation.models import EVENT_IS_ITS_BYTES, EVENT_IS_ITS_BYTES_CHECK, AuditTreeHead
from verifier import saring_verify as tree

T = TypeVar("T")
SEAL_BATCH = 5000
HASH = 32


@dataclass(frozen=True)
class Head:
    size: int
    root: bytes
    frontier: tuple[bytes, ...]
    last_xid: int
    last_sequence: int


EMPTY = Head(0, tree.EMPTY_ROOT, (), -1, -1)


def latest_head() -> Head:
    row = (
        AuditTreeHead.objects.order_by("-size")
        .values_list("size", "root", "frontier", "last_xid", "last_sequence")
        .first()
    )
    if row is None:
        return EMPTY
    size, root, frontier, last_xid, last_sequence = row
    frontier = bytes(frontier)
    edge = tuple(frontier[i : i + HASH] for i in range(0, len(frontier), HASH))
    return Head(size, bytes(root), edge, last_xid, last_sequence)


def seal_pending(limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` finished events as leaves; return how many (see the module doc)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        (horizon,) = cursor.fetchone()
        head = latest_head()
        cursor.execute(
            "SELECT e.id, e.xid, e.sequence, e.canonical FROM moderation_auditevent e"
            " WHERE (e.xid, e.sequence) > (%s, %s) AND e.xid < %s"
            " ORDER BY e.xid, e.sequence LIMIT %s",
            [head.last_xid, head.last_sequence, horizon, limit],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        builder = tree.TreeBuilder(head.size, head.frontier)
        leaf_index, leaf_event, leaf_hash = [], [], []
        node_level, node_index, node_hash = [], [], []
        for event_id, _xid, _sequence, canonical in rows:
            digest = tree.leaf_hash(bytes(canonical))
            leaf_index.append(builder.size)
            leaf_event.append(event_id)
            leaf_hash.append(digest)
            for level, index, value in builder.append(digest):
                node_level.append(level)
                node_index.append(index)
                node_hash.append(value)
        cursor.execute(
            "INSERT INTO moderation_auditleaf (index, event_id, hash)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])",
            [leaf_index, leaf_event, leaf_hash],
        )
        if node_level:
            cursor.execute(
                "INSERT INTO moderation_auditnode (level, index, hash)"
                " SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])",
                [node_level, node_index, node_hash],
            )
        last_xid, last_sequence = rows[-1][1], rows[-1][2]
        cursor.execute(
            "INSERT INTO moderation_audittreehead"
            " (size, root, frontier, last_xid, last_sequence, sealed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                builder.size,
                builder.root,
                b"".join(builder.frontier),
                last_xid,
                last_sequence,
                timezone.now(),
            ],
        )
    leaf_file_sync()
    return len(rows)


# --- The leaf hashes outside PostgreSQL -------------------------------------------------------


def leaf_file() -> Path:
    return Path(settings.AUDIT_LEAF_FILE)


def leaf_file_sync() -> int:
    """Append to the leaf file the sealed leaves it does not have yet; return its leaf count.

    Written only after the sealing committed, so the file never holds a leaf the database does
    not; if the sequencer stopped in between, the next sealing (or start) catches up.
    """
    path = leaf_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        have = handle.tell() // HASH
        handle.truncate(have * HASH)  # a torn last write is rewritten below
        for chunk in _leaf_hashes(have):
            handle.write(b"".join(chunk))
        handle.flush()
        os.fsync(handle.fileno())
        return handle.tell() // HASH


def _leaf_hashes(start: int) -> Iterator[list[bytes]]:
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT hash FROM moderation_auditleaf WHERE index >= %s"
                " ORDER BY index LIMIT 50000",
                [start],
            )
            chunk = [bytes(row[0]) for row in cursor.fetchall()]
            if not chunk:
                return
            yield chunk
            start += len(chunk)


def leaf_file_hashes(count: int) -> list[bytes] | None:
    """The first `count` leaf hashes as the file holds them, or None without the file."""
    try:
        with open(leaf_file(), "rb") as handle:
            data = handle.read(count * HASH)
    except FileNotFoundError:
        return None
    return [data[i : i + HASH] for i in range(0, len(data) - len(data) % HASH, HASH)]


# --- Proofs -----------------------------------------------------------------------------------


def event_leaf(event_id: int) -> tuple[int, bytes] | None:
    """(leaf index, canonical bytes) of a sealed event; None while it waits to be sealed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.index, e.canonical FROM moderation_auditleaf l"
            " JOIN moderation_auditevent e ON e.id = l.event_id WHERE l.event_id = %s",
            [event_id],
        )
        row = cursor.fetchone()
    return (row[0], bytes(row[1])) if row else None


def _stored_hashes(nodes: Iterable[tree.Node]) -> dict[tree.Node, bytes]:
    """The stored hashes of complete subtrees (level 0: leaves), in two queries at most."""
    wanted = set(nodes)
    leaves = [index for level, index in wanted if level == 0]
    inner = [(level, index) for level, index in wanted if level > 0]
    found: dict[tree.Node, bytes] = {}
    with connection.cursor() as cursor:
        if leaves:
            cursor.execute(
                "SELECT index, hash FROM moderation_auditleaf WHERE index = ANY(%s)", [leaves]
            )
            found.update(((0, index), bytes(value)) for index, value in cursor.fetchall())
        if inner:
            cursor.execute(
                "SELECT n.level, n.index, n.hash FROM moderation_auditnode n"
                " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, index)"
                " ON n.level = w.level AND n.index = w.index",
                [[level for level, _ in inner], [index for _, index in inner]],
            )
            found.update(((lvl, idx), bytes(value)) for lvl, idx, value in cursor.fetchall())
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the tree has no stored subtree {sorted(missing)[0]}")
    return found


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError("the leaf is not in a tree of that size")
    nodes = tree.inclusion_nodes(index, size)
    return tree.proof_from(nodes, _stored_hashes(n for group in nodes for n in group))


def consistency_proof(old: int, new: int) -> list[bytes]:
    """The proof that the tree of `new` leaves extends the one of `old` (RFC 9162 2.1.4.1)."""
    if not 0 <= old <= new:
        raise ValueError("a tree can only extend a smaller one")
    nodes = tree.consistency_nodes(old, new)
    return tree.proof_from(nodes, _stored_hashes(n for group in nodes for n in group))


# --- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogReport:
    """What a verification found. `bad_leaf` is the first leaf (0-based) that does not hold."""

    leaves: int
    root: bytes
    bad_leaf: int | None = None
    problem: str = ""
    checkpoint_size: int | None = None
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return self.bad_leaf is None and not self.problem

    @property
    def root_hex(self) -> str:
        return self.root.hex()


def _read_ahead(chunks: Callable[[], Iterator[T]], depth: int = 2) -> Iterator[T]:
    """Iterate `chunks()` in a thread of its own (so its own database connection), `depth`
    items ahead: PostgreSQL finds and sends the next leaves while this thread hashes the last
    ones, two cores at work instead of one. Inside a transaction (a test's) another connection
    could not see the rows, so there it iterates in place."""
    if connection.in_atomic_block:
        yield from chunks()
        return
    ahead: queue.Queue[T | _End | BaseException] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: T | _End | BaseException) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in chunks():
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the reader, raised there
            put(exc)
        finally:
            connection.close()  # this thread's own

    reader = threading.Thread(target=run, name="audit-verify-reader", daemon=True)
    reader.start()
    try:
        while not isinstance(item := ahead.get(), _End):
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


class _End:
    pass


_END = _End()


def binding_problem() -> str:
    """'' while every event's columns are bound to its bytes (the leaf hashes only the bytes):
    the CHECK constraint is there, validated, and reads as Saring defines it. What PostgreSQL
    makes of that definition is found by adding it to a throwaway copy of the table, so the
    comparison holds on any PostgreSQL version."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'moderation_auditevent'::regclass AND conname = %s",
            [EVENT_IS_ITS_BYTES],
        )
        found = cursor.fetchone()
        if found is None:
            return "the events' columns are no longer bound to their sealed bytes (constraint gone)"
        if not found[0]:
            return (
                "the events' columns may differ from their sealed bytes (constraint not validated)"
            )
        cursor.execute(
            "CREATE TEMP TABLE saring_bytes_probe (LIKE moderation_auditevent) ON COMMIT DROP"
        )
        cursor.execute(
            "ALTER TABLE saring_bytes_probe"
            f" ADD CONSTRAINT probe CHECK ({EVENT_IS_ITS_BYTES_CHECK})"
        )
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'saring_bytes_probe'::regclass AND conname = 'probe'"
        )
        (expected,) = cursor.fetchone()
        cursor.execute("DROP TABLE saring_bytes_probe")
    if found[1] != expected:
        return "the events' columns are bound to their bytes by a changed constraint"
    return ""


def _sealed_events(chunk: int = 20000) -> Iterator[list[tuple[Any, ...]]]:
    """Every leaf in order with its event's bytes (None where the event is gone), read in
    PostgreSQL's binary format: bytea as it is stored, not as hex text to decode."""
    start = 0
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:  # Django's own cannot read binary
        while True:
            cursor.execute(
                "SELECT l.index, l.hash, e.id, e.canonical FROM moderation_auditleaf l"
                " LEFT JOIN moderation_auditevent e ON e.id = l.event_id"
                " WHERE l.index >= %s ORDER BY l.index LIMIT %s",
                [start, chunk],
                binary=True,
            )
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            start = rows[-1][0] + 1


def log_verify(checkpoint: tree.Checkpoint | None = None) -> LogReport:
    """Recompute every leaf from its event's bytes and the tree from the leaves, and check that
    the events' columns are still bound to their bytes (`binding_problem`).

    Without a checkpoint, the leaves must be numbered 0..n-1, each must match its event, and
    the tree must match the last sealed head. With a checkpoint someone kept, the recomputed
    tree at its size must have its root (the log still holds what was signed then); if not,
    the leaf file outside PostgreSQL (checked against the checkpoint first) names the first
    leaf whose event no longer reads as it was sealed.
    """
    started = time.perf_counter()
    builder = tree.TreeBuilder()
    checkpoint_root = None
    recomputed: list[bytes] = []
    keep = checkpoint.size if checkpoint is not None else 0
    first_bad: tuple[int, str] | None = None
    for rows in _read_ahead(_sealed_events):
        for index, stored, event_id, canonical in rows:
            if index != builder.size:
                first_bad = first_bad or (builder.size, f"leaf {builder.size} is missing")
                break
            stored = bytes(stored)
            if event_id is None:
                digest = stored
                first_bad = first_bad or (index, f"the event of leaf {index} was deleted")
            else:
                digest = sha256(b"\x00" + canonical).digest()
                if digest != stored and first_bad is None:
                    first_bad = (index, f"the event of leaf {index} no longer reads as sealed")
            if index < keep:
                recomputed.append(digest)
            builder.append(digest)
            if checkpoint is not None and builder.size == checkpoint.size:
                checkpoint_root = builder.root
        else:
            continue
        break
    head = latest_head()
    unbound = binding_problem()
    elapsed = time.perf_counter() - started
    if checkpoint is None:
        if first_bad is not None:
            return LogReport(builder.size, builder.root, first_bad[0], first_bad[1], None, elapsed)
        if builder.size != head.size or builder.root != head.root:
            return LogReport(
                builder.size,
                builder.root,
                min(builder.size, head.size),
                "the leaves do not make the tree that was last sealed",
                None,
                elapsed,
            )
        # The bytes hold; if `unbound`, what the pages read from the columns may not.
        return LogReport(builder.size, builder.root, None, unbound, None, elapsed)
    if checkpoint_root == checkpoint.root:
        if first_bad is not None:  # what was signed holds; something stored since does not
            return LogReport(
                builder.size, builder.root, first_bad[0], first_bad[1], checkpoint.size, elapsed
            )
        return LogReport(builder.size, builder.root, None, unbound, checkpoint.size, elapsed)
    bad, problem = _first_difference(checkpoint, recomputed, builder.size, first_bad)
    return LogReport(builder.size, builder.root, bad, problem, checkpoint.size, elapsed)


def _first_difference(
    checkpoint: tree.Checkpoint,
    recomputed: list[bytes],
    size: int,
    first_bad: tuple[int, str] | None,
) -> tuple[int, str]:
    """Which leaf breaks the checkpoint: from the leaf file if it matches the checkpoint."""
    kept = leaf_file_hashes(checkpoint.size)
    if kept is not None and len(kept) == checkpoint.size and tree.root_of(kept) == checkpoint.root:
        for index, digest in enumerate(kept):
            if index >= len(recomputed):
                return index, f"leaf {index} is missing: the log is shorter than the checkpoint"
            if recomputed[index] != digest:
                return index, f"leaf {index} is not the event that was sealed there"
    if size < checkpoint.size:
        return size, f"leaf {size} is missing: the log is shorter than the checkpoint"
    if first_bad is not None:
        return first_bad
    return 0, "the log is not the one the checkpoint signed (the leaf file cannot say where)"


# --- Verification as a background job ------------------------------------------------------

VERIFY_JOB = "moderation.audit.jobs.verify_job"
VERIFY_RESULT_SECONDS = 24 * 3600  # how long the page can show a finished verification


@dataclass(frozen=True)
class Verification:
    """A verification someone started from the chain page: waiting, running, done or failed."""

    job_id: str
    status: str
    report: LogReport | None = None

    @property
    def pending(self) -> bool:
        return self.status in ("queued", "started", "deferred", "scheduled")

    @property
    def failed(self) -> bool:
        return not self.pending and self.report is None


def log_verify_enqueue(checkpoint_note: str | None) -> str:
    """Queue a verification (the checkpoint already opened by the caller); returns the job's
    id. Raises redis's ConnectionError when the queue cannot be reached."""
    import django_rq

    job_id = str(uuid.uuid4())  # ours: inside a transaction django-rq queues it on commit
    django_rq.get_queue("default").enqueue(
        VERIFY_JOB, checkpoint_note, job_id=job_id, result_ttl=VERIFY_RESULT_SECONDS
    )
    return job_id


def log_verification(job_id: str) -> Verification | None:
    """The state of a queued verification; None for an id that is not one (or has expired)."""
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=django_rq.get_connection("default"))
    except NoSuchJobError:
        return None
    if job.func_name != VERIFY_JOB:
        return None
    state = job.get_status(refresh=False)
    status = str(getattr(state, "value", state) or "")
    result = job.return_value() if status == "finished" else None
    report = LogReport(**result) if isinstance(result, dict) else None
    return Verification(job_id, status, report)
