"""Liveness and readiness, for load balancers, orchestrators and the people who run Saring
(README "Operating Saring").

- `/healthz` — liveness: this process answers. Nothing else is asked, so a database outage
  does not get healthy web processes restarted.
- `/readyz` — readiness: one check per thing Saring needs (django-health-check runs them, each
  with a time limit), answered as JSON, 200 when every check passes and 503 naming the ones
  that fail: PostgreSQL, migrations applied, Redis, private storage writable, a Celery worker
  and beat alive, an RQ worker present, and the takedown outbox not lagging.

Celery's worker and beat say they are alive by writing a heartbeat to Redis every
`READY_HEARTBEAT_INTERVAL_SECONDS` (config/celery.py); one older than
`READY_HEARTBEAT_MAX_AGE_SECONDS` (45 s) counts as stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import ClassVar

import redis
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from health_check import Database as DatabaseCheck
from health_check import HealthCheck
from health_check.exceptions import HealthCheckException, ServiceUnavailable

from config.heartbeats import HEARTBEAT_PREFIX, heartbeat, heartbeat_ages, redis_client

__all__ = ["HEARTBEAT_PREFIX", "READINESS", "healthz", "heartbeat", "heartbeat_ages", "readyz"]

logger = logging.getLogger("saring.health")


# --- The checks ------------------------------------------------------------------------------


@dataclasses.dataclass
class _Check(HealthCheck):
    """A django-health-check check, run synchronously by `readyz` in a thread of its own (the
    library's own view is async, which a thread with a running event loop cannot serve);
    `name` is its key in the answer."""

    name: ClassVar[str] = ""

    def run(self) -> None:
        raise NotImplementedError


@dataclasses.dataclass
class Database(_Check):
    name: ClassVar[str] = "database"

    def run(self) -> None:
        DatabaseCheck().run()


@dataclasses.dataclass
class Migrations(_Check):
    name: ClassVar[str] = "migrations"

    def run(self) -> None:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            first = plan[0][0]
            raise ServiceUnavailable(
                f"{len(plan)} migration(s) not applied, from {first.app_label}.{first.name}"
            )


@dataclasses.dataclass
class Redis(_Check):
    name: ClassVar[str] = "redis"

    def run(self) -> None:
        try:
            redis_client().ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"Redis does not answer: {type(exc).__name__}") from exc


@dataclasses.dataclass
class Storage(_Check):
    name: ClassVar[str] = "storage"

    def run(self) -> None:
        from pathlib import Path

        probe = Path(settings.PRIVATE_MEDIA_ROOT) / f".readyz-{uuid.uuid4().hex}"
        try:
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise ServiceUnavailable(
                f"private storage is not writable: {type(exc).__name__}"
            ) from exc


@dataclasses.dataclass
class _Heartbeat(_Check):
    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def run(self) -> None:
        try:
            ages = heartbeat_ages(self.kind)
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"Redis does not answer: {type(exc).__name__}") from exc
        limit = settings.READY_HEARTBEAT_MAX_AGE_SECONDS
        if not ages:
            raise ServiceUnavailable(f"no {self.label} has reported")
        if min(ages.values()) > limit:
            raise ServiceUnavailable(
                f"no {self.label} has reported for {min(ages.values()):.0f} s (limit {limit:g} s)"
            )


@dataclasses.dataclass
class CeleryWorker(_Heartbeat):
    name: ClassVar[str] = "celery_worker"
    kind: ClassVar[str] = "worker:"
    label: ClassVar[str] = "Celery worker"


@dataclasses.dataclass
class CeleryBeat(_Heartbeat):
    name: ClassVar[str] = "celery_beat"
    kind: ClassVar[str] = "beat"
    label: ClassVar[str] = "Celery beat"


@dataclasses.dataclass
class RQWorker(_Check):
    name: ClassVar[str] = "rq_worker"

    def run(self) -> None:
        from rq import Worker

        queue = redis.Redis.from_url(
            settings.RQ_QUEUES["default"]["URL"], socket_timeout=2, socket_connect_timeout=2
        )
        try:
            workers = Worker.all(connection=queue)
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"Redis does not answer: {type(exc).__name__}") from exc
        if not workers:
            raise ServiceUnavailable("no RQ worker is running (exports and imports wait)")


@dataclasses.dataclass
class Outbox(_Check):
    name: ClassVar[str] = "outbox"

    def run(self) -> None:
        from moderation.takedowns import outbox_lag_seconds

        lag = outbox_lag_seconds()
        limit = settings.READY_OUTBOX_LAG_SECONDS
        if lag > limit:
            raise ServiceUnavailable(
                f"a takedown request has waited {lag:.0f} s to be sent (limit {limit:g} s)"
            )


READINESS = (Database, Migrations, Redis, Storage, CeleryWorker, CeleryBeat, RQWorker, Outbox)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# Each check's latest run: a probe does not start a check whose last run is still going (a
# hung dependency would otherwise fill the pool, probe after probe).
_running: dict[str, Future] = {}


def _timed(check: _Check) -> tuple[str | None, float]:
    started = time.monotonic()
    try:
        check.run()
        error = None
    except HealthCheckException as exc:
        error = str(exc.message)
    except Exception:  # reported by name, never a 500
        logger.exception("readiness check %s broke", check.name)
        error = "the check itself failed (see the log)"
    finally:
        connections.close_all()  # this thread's connections, opened for the check
    return error, time.monotonic() - started


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Every readiness check, by name: `{"ready": bool, "checks": {name: {"ok", "detail",
    "seconds"}}}`; 503 when any fails. The checks run side by side, each given
    READY_CHECK_TIMEOUT_SECONDS at most."""
    global _pool
    limit = settings.READY_CHECK_TIMEOUT_SECONDS
    futures: dict[str, tuple[Future, bool]] = {}
    with _pool_lock:
        if _pool is None:  # made after gunicorn forks, once per process
            _pool = ThreadPoolExecutor(max_workers=len(READINESS), thread_name_prefix="readyz")
        for check in READINESS:
            previous = _running.get(check.name)
            if previous is not None and not previous.done():
                futures[check.name] = (previous, True)
                continue
            _running[check.name] = _pool.submit(_timed, check())
            futures[check.name] = (_running[check.name], False)
    deadline = time.monotonic() + limit
    checks = {}
    for name, (future, earlier) in futures.items():
        try:
            error, seconds = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            error = (
                "still without an answer since an earlier probe"
                if earlier
                else f"no answer within {limit:g} s"
            )
            seconds = limit
        checks[name] = {
            "ok": error is None,
            "detail": error or "ok",
            "seconds": round(seconds, 4),
        }
    ready = all(entry["ok"] for entry in checks.values())
    response = JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    response = JsonResponse({"alive": True})
    response["Cache-Control"] = "no-store"
    return response
