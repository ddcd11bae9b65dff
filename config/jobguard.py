"""Long jobs that never hang (exports, bulk imports; README "Operating Saring").

While a job runs, its row's `heartbeat_at` is stamped every `JOB_HEARTBEAT_SECONDS` from a
thread of its own over a database connection of its own (the job's connection may be busy
streaming rows for minutes). A job still "running" whose heartbeat is older than
`JOB_STALE_SECONDS` has lost its worker — killed, out of memory, its machine gone — and the
apps' reapers (beat, every minute) mark it failed with `WORKER_LOST` as the reason; the person
who watches it can retry it. A job that finishes after it was given up on changes nothing
(its completion only applies to a row still running).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("saring.jobs")

# The reason stored on a job given up on; pages translate it.
WORKER_LOST = "worker_lost"


@contextlib.contextmanager
def job_heartbeat(*, table: str, pk: int) -> Iterator[None]:
    """Stamp `table`.heartbeat_at of row `pk` now and every JOB_HEARTBEAT_SECONDS until the
    block ends. `table` is one of our own table names, never input."""
    params = connection.get_connection_params()
    statement = f"UPDATE {table} SET heartbeat_at = now() WHERE id = %s"  # noqa: S608
    stop = threading.Event()
    started = threading.Event()

    def beat() -> None:
        side = None
        try:
            side = connection.get_new_connection(params)
            side.autocommit = True
            while True:
                side.execute(statement, [pk])
                started.set()
                if stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                    return
        except Exception:  # a missed heartbeat must not kill the job itself
            logger.warning("heartbeat of %s %s stopped", table, pk, exc_info=True)
        finally:
            started.set()
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


def stale_before(now: datetime | None = None) -> datetime:
    """A running job whose heartbeat is older than this has lost its worker."""
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)
