"""Shared pieces of the takedown tests: proposals, a real operator, a throwaway Redis and
Celery worker processes. Nothing here stands in for our own code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import signing
from accounts.categories import Category
from devtools.simulator import OperatorSimulator, Switches
from moderation.models import Case, DeliveryAttempt, TakedownRequest
from moderation.takedowns import services as takedowns
from scripts.dev import EmbeddedRedis, free_port
from tests.support import ROOT
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    LegalBasisFactory,
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
    basis = LegalBasisFactory()
    if not basis.covers(category):  # the general basis, which covers every category
        basis = LegalBasisFactory(
            code="pm-kominfo-5-2020-9-4",
            title="PM Kominfo 5/2020 Pasal 9 ayat (4)",
            categories=list(Category.values),
        )
    return DecisionFactory(
        case=case, moderator=moderator, category=category, urgency=urgency, legal_basis=basis
    )


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


class CannedOperator:
    """A real HTTP server on loopback that gives every request the same answer and keeps
    what it was sent: for operators that misbehave in ways the simulator does not (redirects,
    odd answers)."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: dict | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        canned = self
        self.received: list[tuple[str, bytes]] = []
        self.hosts: list[str | None] = []  # each request's Host header

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                canned.received.append((self.path, self.rfile.read(length)))
                canned.hosts.append(self.headers.get("Host"))
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(address, Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{address[0]}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Shared by the delivery tests: fast retries, a delivery's outcomes, a signed callback.
FAST = {
    "TAKEDOWN_BACKOFF_BASE_SECONDS": 0.05,
    "TAKEDOWN_BACKOFF_MAX_SECONDS": 0.2,
    "OPERATOR_TIMEOUT_SECONDS": 0.5,
    "TAKEDOWN_MAX_ATTEMPTS": 5,
}


def outcomes(request_id) -> list[str]:
    return list(
        DeliveryAttempt.objects.filter(request_id=request_id)
        .order_by("number")
        .values_list("outcome", flat=True)
    )


def callback(platform, payload: dict, *, secret: str | None = None, now: float | None = None):
    body = json.dumps(payload).encode()
    headers = signing.signed_headers(secret or platform.callback_secret, body, now=now)
    return Client().post(
        f"/api/v1/operators/{platform.slug}/callbacks/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def outcome(request, status="taken_down"):
    return {
        "request_id": str(request.pk),
        "status": status,
        "reason": "",
        "actioned_at": timezone.now().isoformat(),
    }
