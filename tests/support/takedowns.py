"""Shared pieces of the takedown tests: proposals, a real operator, a throwaway Redis and
Celery worker processes. Nothing here stands in for our own code."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection
from django.utils import timezone

from devtools.simulator import OperatorSimulator, Switches
from moderation.models import Case, TakedownRequest
from moderation.takedowns import services as takedowns
from scripts.dev import EmbeddedRedis, free_port
from tests.support import ROOT
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    PlatformFactory,
)


def platform_for(simulator: OperatorSimulator | None = None, slug: str = "michat", **extra):
    platform = PlatformFactory(slug=slug, rate_limit_per_second=1000, **extra)
    if simulator is not None:
        platform.endpoint_url = simulator.endpoint(slug)
        platform.save(update_fields=["endpoint_url"])
    return platform


def simulator_for(platform_slug: str = "michat", **switches) -> OperatorSimulator:
    """A real HTTP operator that knows the secrets PlatformFactory gives this slug."""
    secrets = (
        f"signing-secret-of-{platform_slug}-0123456789abcdef",
        f"callback-secret-of-{platform_slug}-0123456789abcdef",
    )
    switches.setdefault("callback_delay", -1)
    return OperatorSimulator({platform_slug: secrets}, switches=Switches(**switches)).start()


def proposal(*, moderator, platform, category: str = "prostitution", urgency: str = "normal"):
    """A takedown proposal as the review queue leaves it: the case `proposed`."""
    account = ChatAccountFactory(platform=platform, display_name="Bella BO")
    case = CaseFactory(account=account, status=Case.Status.PROPOSED, category=category)
    return DecisionFactory(case=case, moderator=moderator, category=category, urgency=urgency)


def deliver_until_settled(request_id, *, rounds: int = 20) -> TakedownRequest:
    """What the worker and the sweeper do over time, run here in-process: deliver whenever
    the request is due, until it leaves `pending`."""
    for _ in range(rounds):
        request = TakedownRequest.objects.get(pk=request_id)
        if request.status != TakedownRequest.Status.PENDING:
            return request
        if request.next_attempt_at:
            wait = (request.next_attempt_at - timezone.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
        takedowns.takedown_deliver(request_id=str(request_id))
    return TakedownRequest.objects.get(pk=request_id)


class RedisServer(EmbeddedRedis):
    """A throwaway redis-server (the one `make test` uses too) that a test may stop and start
    again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(None, port or free_port())

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        super().start()
        return self


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app at another broker, and back afterwards."""
    from config.celery import app

    def reset():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url = previous
        reset()


def database_url_of_tests() -> str:
    """DATABASE_URL naming the test database this test process is using."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def start_worker(*, redis_url: str, env: dict | None = None, log: Path | None = None):
    """A real `celery -A config worker` process against the given Redis and the test DB."""
    environment = dict(os.environ)
    environment |= {
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    environment |= env or {}
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
