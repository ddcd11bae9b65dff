"""Fixtures shared by the project-wide tests (readiness and metrics)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.takedowns import RedisServer


@pytest.fixture
def own_redis():
    """A Redis of this test's own: no heartbeat or RQ worker of another test is seen, and the
    heartbeats written here reach no other test."""
    server = RedisServer().start()
    try:
        with override_settings(REDIS_URL=server.url, RQ_QUEUES={"default": {"URL": server.url}}):
            yield server
    finally:
        server.stop()
