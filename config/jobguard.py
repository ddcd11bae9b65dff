"""Long jobs that never hang (exports, bulk imports; README "Operating Saring").

Each run of a job claims its row with a new `attempt` number (`job_claim`). While it runs, its
row's `heartbeat_at` is stamped every `JOB_HEARTBEAT_SECONDS` from a thread of its own over a
database connection of its own (the job's own connection may be busy streaming rows for
minutes; a failed stamp is retried, never the end of the heartbeat). A job still "running"
whose heartbeat is older than `JOB_STALE_SECONDS` by the database's clock has lost its worker —
killed, out of memory, its machine gone — and the apps' reapers (beat) mark it failed with
`WORKER_LOST` as the reason; the person who watches it can retry it, which queues it for a new
attempt. Every write of a run (heartbeat, progress, completion, failure) applies only while the
row is still running *its* attempt, so a run that was given up on — and perhaps retried —
changes nothing if it carries on after all.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, Value
from django.db.models.functions import Now

logger = logging.getLogger("saring.jobs")

# The reason stored on a job given up on; pages translate it.
WORKER_LOST = "worker_lost"


def side_connection() -> psycopg.Connection:
    """A connection of its own, outside Django's (and outside its pool, when one is used),
    in autocommit, for writes that must be seen at once whatever the job's own connection is
    doing. The caller closes it."""
    side = psycopg.connect(**connection.get_connection_params())
    side.autocommit = True
    return side


def job_claim(*, table: str, pk: int, extra_sql: str = "") -> int | None:
    """queued -> running for a new attempt, by one conditional UPDATE: returns the attempt
    number this run owns, or None when another worker has it or it is not queued. `table`
    and `extra_sql` are our own constants, never input."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = 'running', attempt = attempt + 1,"  # noqa: S608
            f" heartbeat_at = now(){extra_sql} WHERE id = %s AND status = 'queued'"
            " RETURNING attempt",
            [pk],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@contextlib.contextmanager
def job_heartbeat(*, table: str, pk: int, attempt: int) -> Iterator[None]:
    """Stamp `table`.heartbeat_at of row `pk` now and every JOB_HEARTBEAT_SECONDS until the
    block ends, while the row still runs `attempt`."""
    statement = (
        f"UPDATE {table} SET heartbeat_at = now()"  # noqa: S608
        " WHERE id = %s AND attempt = %s AND status = 'running'"
    )
    stop = threading.Event()
    started = threading.Event()

    def beat() -> None:
        side: Any = None
        while not stop.is_set():
            try:
                if side is None:
                    side = side_connection()
                side.execute(statement, [pk, attempt])
            except Exception:  # a missed stamp must not end the heartbeat, nor the job
                logger.warning("heartbeat of %s %s missed; retrying", table, pk, exc_info=True)
                with contextlib.suppress(Exception):
                    if side is not None:
                        side.close()
                side = None
            started.set()
            stop.wait(settings.JOB_HEARTBEAT_SECONDS)
        if side is not None:
            side.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{table}-{pk}", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def stale_before() -> ExpressionWrapper:
    """A running job whose heartbeat is older than this (by the database's clock, the one the
    heartbeats are stamped with) has lost its worker."""
    return ExpressionWrapper(
        Now() - Value(timedelta(seconds=settings.JOB_STALE_SECONDS)),
        output_field=DateTimeField(),
    )
