"""Keeping the rings current: Celery beat rebuilds them every RING_REBUILD_SECONDS, and a new
picture link asks for a rebuild soon (`rings_rebuild_soon`), debounced so that a burst of
hashed pictures costs one rebuild, not one each."""

from __future__ import annotations

import contextlib
import logging

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from moderation.rings.graph import rings_rebuild

logger = logging.getLogger(__name__)

REBUILD_TASK = "moderation.rings_rebuild"
# Set while a rebuild is queued and not yet started; it expires on its own, so a lost task
# never blocks the next request for long.
PENDING_KEY = "saring:rings:rebuild-pending"
# How long after the first request the rebuild runs: links that arrive meanwhile join it.
SOON_SECONDS = 10

_redis_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _redis_client
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _redis_client


@shared_task(name=REBUILD_TASK, acks_late=True, ignore_result=True)
def rings_rebuild_task() -> int:
    # Cleared first: a link written while this runs asks for (and gets) another rebuild.
    try:
        _redis().delete(PENDING_KEY)
    except redis.RedisError:
        logger.warning("could not clear the pending rings rebuild flag", exc_info=True)
    return rings_rebuild().rings


def rings_rebuild_soon() -> None:
    """Queue one rings rebuild SOON_SECONDS after the current transaction commits, unless one
    is already queued (Redis SET NX EX). A broker or Redis outage is logged, never raised:
    beat's periodic rebuild catches up."""
    transaction.on_commit(_queue_once, robust=True)


def _queue_once() -> None:
    app = rings_rebuild_task.app
    try:
        if not _redis().set(PENDING_KEY, "1", nx=True, ex=SOON_SECONDS + 60):
            return
    except redis.RedisError:
        logger.warning("could not queue a rings rebuild; beat's will do", exc_info=True)
        return
    try:
        with app.pool.acquire(block=True, timeout=2) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0.1, timeout=2)
            app.send_task(REBUILD_TASK, countdown=SOON_SECONDS, retry=False, connection=broker)
    except Exception:  # noqa: BLE001 - any broker failure: beat rebuilds anyway
        logger.warning("could not queue a rings rebuild; beat's will do", exc_info=True)
        with contextlib.suppress(redis.RedisError):  # the next link may try again
            _redis().delete(PENDING_KEY)
