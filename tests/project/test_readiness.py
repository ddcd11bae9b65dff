"""Liveness and readiness (config/health.py): /healthz asks nothing; /readyz names every check
and answers 503 naming what fails — a stopped Celery worker (a real one, stopped), a missing
RQ worker, a lagging outbox — and the metrics report the same."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from config.health import READINESS, heartbeat
from moderation.models import TakedownRequest
from tests.support import ROOT
from tests.support.takedowns import (
    database_url_of_tests,
    platform_for,
    proposal,
    start_worker,
    wait_for,
)

# The checks run in threads of their own, on connections of their own: they see committed data.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rq_worker(own_redis):
    """An RQ worker registered as a running one registers itself (its birth), gone after."""
    worker = Worker(["default"], connection=redis.Redis.from_url(own_redis.url))
    worker.register_birth()
    yield worker
    worker.register_death()


def readiness(client: Client | None = None) -> tuple[int, dict]:
    response = (client or Client()).get("/readyz")
    return response.status_code, response.json()


def metric_samples() -> dict[tuple[str, tuple], float]:
    """/metrics, read afresh, keyed by (name, sorted labels)."""
    with override_settings(METRICS_TOKEN="t", METRICS_CACHE_SECONDS=0):
        response = Client().get("/metrics", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_liveness_answers_without_asking_anything(own_redis):
    own_redis.stop()  # even with Redis gone, the process itself is alive
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"alive": True})
    own_redis.start()


def test_ready_when_every_check_passes_and_each_is_listed(own_redis, rq_worker):
    heartbeat("worker:celery@test")
    heartbeat("beat")
    status, body = readiness()
    assert status == 200, body
    assert body["ready"] is True
    assert (
        set(body["checks"])
        == {check.name for check in READINESS}
        == {
            "database",
            "migrations",
            "redis",
            "storage",
            "celery_worker",
            "celery_beat",
            "rq_worker",
            "outbox",
        }
    )
    assert all(entry["ok"] and entry["detail"] == "ok" for entry in body["checks"].values())


def test_a_missing_worker_and_a_lagging_outbox_make_it_not_ready_by_name(
    own_redis, moderator, supervisor
):
    from moderation.takedowns import services as takedowns

    heartbeat("beat")
    decision = proposal(moderator=moderator, platform=platform_for(None))
    request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    TakedownRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=400)
    )
    status, body = readiness()
    assert status == 503 and body["ready"] is False
    checks = body["checks"]
    assert checks["celery_worker"] == {
        "ok": False,
        "detail": "no Celery worker has reported",
        "seconds": checks["celery_worker"]["seconds"],
    }
    assert checks["rq_worker"]["ok"] is False and "no RQ worker" in checks["rq_worker"]["detail"]
    assert checks["outbox"]["ok"] is False
    assert "has waited 4" in checks["outbox"]["detail"]
    assert checks["celery_beat"]["ok"] and checks["database"]["ok"] and checks["redis"]["ok"]
    # The metrics say the same: no worker's heartbeat (what the alert's absent() catches),
    # no RQ worker, and the outbox's lag.
    samples = metric_samples()
    assert not any(
        name == "saring_process_heartbeat_age_seconds" and ("kind", "worker") in labels
        for name, labels in samples
    )
    assert (
        samples[("saring_process_heartbeat_age_seconds", (("kind", "beat"), ("process", "beat")))]
        < 45
    )
    assert samples[("saring_rq_workers", ())] == 0
    assert 400 <= samples[("saring_outbox_oldest_age_seconds", ())] < 460


def test_redis_down_is_named_not_a_500(own_redis):
    own_redis.stop()
    try:
        status, body = readiness()
    finally:
        own_redis.start()
    assert status == 503
    assert body["checks"]["redis"]["ok"] is False
    assert "Redis does not answer" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_a_stopped_celery_worker_turns_readiness_503_naming_it(own_redis, rq_worker, tmp_path):
    """A real `celery -A config worker` and `celery -A config beat`: both report; the worker
    is stopped; readiness names it well within a minute while beat stays well."""
    fast = {"READY_HEARTBEAT_INTERVAL_SECONDS": "0.5"}
    worker = start_worker(redis_url=own_redis.url, env=fast, log=tmp_path / "worker.log")
    beat = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "beat",
            "--schedule",
            str(tmp_path / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url_of_tests(),
            "REDIS_URL": own_redis.url,
            **fast,
        },
        stdout=(tmp_path / "beat.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        with override_settings(READY_HEARTBEAT_MAX_AGE_SECONDS=3):
            seen = {}

            def ready():
                status, seen["body"] = readiness()
                return status == 200 and seen["body"]

            try:
                wait_for(ready, timeout=60, what="the worker and beat to report")
            except AssertionError:
                log = (tmp_path / "worker.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"not ready: {seen.get('body')}\nworker log:\n{log}")
            worker.terminate()
            worker.wait(30)

            def worker_gone():
                status, body = readiness()
                return status == 503 and body

            body = wait_for(worker_gone, timeout=60, what="readiness to notice")
        assert body["checks"]["celery_worker"]["ok"] is False
        assert "no Celery worker has reported for" in body["checks"]["celery_worker"]["detail"]
        assert body["checks"]["celery_beat"]["ok"] is True
        # The metrics name the stopped worker by its heartbeat's age, beat's stays fresh.
        ages = {
            dict(labels)["kind"]: age
            for (name, labels), age in metric_samples().items()
            if name == "saring_process_heartbeat_age_seconds"
        }
        assert ages["worker"] > 3 and ages["beat"] < 3
    finally:
        for process in (worker, beat):
            process.kill()
            process.wait(30)
