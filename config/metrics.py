"""`/metrics` for Prometheus (README "Operating Saring" › Metrics).

Two kinds of figures, one answer:

- **What this web process measured**: request latency by view, method and status class, and
  operators' callbacks by result (a rejected signature leaves no record anywhere else). Under
  gunicorn, config/gunicorn.conf.py gives the workers one PROMETHEUS_MULTIPROC_DIR, so
  whichever worker answers sums them all (prometheus-client's multiprocess mode).
- **What the records say** (moderation/metrics.py) and the processes' heartbeats: the queue,
  takedowns and the outbox, deliveries, intake, jobs, the audit log's sealing, and whether
  the Celery worker, beat and the RQ worker are alive. One reading serves every scrape for
  METRICS_CACHE_SECONDS (kept in the cache, so shared by all workers).

Never public: without METRICS_TOKEN set the URL answers 404; with it, only a request bearing
`Authorization: Bearer <METRICS_TOKEN>` is answered (401 otherwise). The proxy also refuses
/metrics from outside (deploy/Caddyfile); Prometheus scrapes the web process directly.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger("saring.metrics")

REQUEST_SECONDS = Histogram(
    "saring_http_request_duration_seconds",
    "Time to answer a request, by view (Django's view name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPERATOR_CALLBACKS = Counter(
    "saring_operator_callbacks",
    "Operators' callbacks by platform and result: the outcome applied (taken_down, refused,"
    " not_found), a replay, or why it was rejected.",
    ["platform", "result"],
)
OPERATOR_OBJECTIONS = Counter(
    "saring_operator_objections",
    "Operators' objection messages (docs/objections.md) by platform and result: received, a"
    " repeat, read, or why it was rejected.",
    ["platform", "result"],
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CACHE_KEY = "metrics:records"


class RequestMetricsMiddleware:
    """Times every request, labelled by the view that answered ("unmatched" for static files
    and unknown URLs, so a scanner cannot mint labels)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        REQUEST_SECONDS.labels(
            view=(match.view_name if match is not None else "") or "unmatched",
            method=request.method if request.method in _METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


def callback_counted(*, platform: str | None, result: str) -> None:
    """Count one operator callback (`platform` None when the URL named no known platform)."""
    OPERATOR_CALLBACKS.labels(platform=platform or "unknown", result=result).inc()


def objection_counted(*, platform: str | None, result: str) -> None:
    """Count one operator objection message (`platform` None when the URL named no known
    platform)."""
    OPERATOR_OBJECTIONS.labels(platform=platform or "unknown", result=result).inc()


def _processes() -> Iterator[Metric]:
    """The heartbeats config/health.py reads: seconds since each Celery worker and beat last
    reported, and how many RQ workers are registered."""
    import redis
    from rq import Worker

    from config.heartbeats import heartbeat_ages

    ages = GaugeMetricFamily(
        "saring_process_heartbeat_age_seconds",
        "Seconds since each Celery worker and beat last wrote its heartbeat (READY_HEARTBEAT_*;"
        " a process gone for good disappears after four times the readiness limit).",
        labels=["kind", "process"],
    )
    for kind, prefix in (("worker", "worker:"), ("beat", "beat")):
        for name, age in sorted(heartbeat_ages(prefix).items()):
            ages.add_metric([kind, name], age)
    yield ages
    connection = redis.Redis.from_url(
        str(settings.RQ_QUEUES["default"]["URL"]), socket_timeout=2, socket_connect_timeout=2
    )
    yield GaugeMetricFamily(
        "saring_rq_workers",
        "RQ workers registered (exports and imports wait when there are none).",
        value=len(Worker.all(connection=connection)),
    )


class _Records:
    """A collector over the records and the heartbeats; a part that cannot be read is left
    out and counted in saring_metrics_read_errors, never a failed scrape."""

    def collect(self) -> Iterator[Metric]:
        from moderation.metrics import saring_metrics

        started = time.perf_counter()
        errors = 0
        for part in (lambda: saring_metrics(now=timezone.now()), _processes):
            try:
                yield from list(part())
            except Exception:
                errors += 1
                logger.exception("metrics: a part could not be read")
        yield GaugeMetricFamily(
            "saring_metrics_read_errors",
            "Parts of the last metrics reading that failed (see the web log); 0 when whole.",
            value=errors,
        )
        yield GaugeMetricFamily(
            "saring_metrics_read_seconds",
            "How long the last reading of the records and heartbeats took.",
            value=time.perf_counter() - started,
        )


def _records_text() -> bytes:
    """The records' metrics as exposition text, from the cache when a reading is fresh."""
    ttl = settings.METRICS_CACHE_SECONDS
    if ttl > 0:
        try:
            cached = cache.get(_CACHE_KEY)
        except Exception:  # the cache is Redis: its outage shows in the figures, not a 500
            cached = None
        if cached is not None:
            return cached
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Records())
    text = generate_latest(registry)
    if ttl > 0:
        try:
            cache.set(_CACHE_KEY, text, ttl)
        except Exception:
            logger.warning("metrics: the reading was not cached")
    return text


def _process_text() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _authorised(request: HttpRequest) -> bool:
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    if not _authorised(request):
        response = HttpResponse(
            "A metrics token is needed: Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(_process_text() + _records_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
