"""Heartbeats: Celery's worker and beat say they are alive by writing one to Redis every
`READY_HEARTBEAT_INTERVAL_SECONDS` (config/celery.py); the readiness check and the metrics
read their ages (config/health.py, config/metrics.py). Apart from the readiness checks, so
that the Celery app does not depend on what the checks read (the areas' outbox figures).
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

HEARTBEAT_PREFIX = "saring:heartbeat:"
logger = logging.getLogger("saring.health")


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def heartbeat(name: str) -> None:
    """Record that the process `name` ("worker:<hostname>", "beat") is alive now. A Redis
    outage must not stop the process that calls this: it is logged and skipped."""
    try:
        redis_client().set(
            HEARTBEAT_PREFIX + name,
            repr(time.time()),
            ex=max(int(settings.READY_HEARTBEAT_MAX_AGE_SECONDS * 4), 10),
        )
    except redis.RedisError as exc:
        logger.warning("heartbeat of %s not written: %s", name, exc)


def heartbeat_ages(kind: str) -> dict[str, float]:
    """Seconds since each process of `kind` ("worker", "beat") last wrote its heartbeat."""
    client = redis_client()
    keys = sorted(client.scan_iter(match=f"{HEARTBEAT_PREFIX}{kind}*", count=100))
    now = time.time()
    ages = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        if value is not None:
            ages[key.decode().removeprefix(HEARTBEAT_PREFIX)] = now - float(value)
    return ages
