"""A burst of new picture links asks for one rings rebuild, not one each."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from moderation.rings import rings_rebuild_soon
from moderation.rings.tasks import PENDING_KEY, REBUILD_TASK, rings_rebuild_task
from tests.support.rings import account, link, picture

pytestmark = pytest.mark.django_db


def test_a_burst_queues_one_rebuild_after_commit_and_the_rebuild_lets_the_next_one_queue(
    django_capture_on_commit_callbacks,
):
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(PENDING_KEY)
    queued = broker.llen("celery")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rings_rebuild_soon()
    assert broker.llen("celery") == queued  # nothing before the commit
    for callback in callbacks:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        rings_rebuild_soon()
        rings_rebuild_soon()

    assert broker.llen("celery") == queued + 1
    assert REBUILD_TASK.encode() in broker.lindex("celery", 0)
    assert 0 < broker.ttl(PENDING_KEY) <= 70

    first, second = account("s1"), account("s2")
    link(picture(first), picture(second))
    assert rings_rebuild_task() == 1  # what the worker runs: one ring
    assert not broker.exists(PENDING_KEY)
    broker.lpop("celery")
