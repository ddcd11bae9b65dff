"""Structured logs with a request id (config/logs.py): the id is echoed, odd ids are replaced,
every log line of the request carries it, and it follows an approval into its delivery task
and to the operator (a real Celery worker, the operator simulator over HTTP)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from tests.support import ROOT
from tests.support.takedowns import (
    FAST,
    RedisServer,
    celery_broker,
    platform_for,
    proposal,
    simulator_for,
    start_worker,
    wait_for,
)


def test_a_clean_request_id_is_kept_echoed_and_on_every_log_line_of_the_request(caplog):
    caplog.set_level(logging.INFO)
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="crawler-2026.12:0001")
    assert response["X-Request-Id"] == "crawler-2026.12:0001"
    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    started = [line for line in lines if line.get("event") == "request_started"]
    finished = [line for line in lines if line.get("event") == "request_finished"]
    assert started and finished
    assert all(line["request_id"] == "crawler-2026.12:0001" for line in started + finished)


@pytest.mark.parametrize("odd", ["a b", "x" * 101, "évil", "id\r\nX-Injected: 1", "-lead"])
def test_an_odd_request_id_is_replaced_by_a_new_one(odd):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=odd)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])


def test_production_logs_are_json_lines_in_utc_with_the_request_id():
    """A process as production runs it (LOG_FORMAT defaults to json without DEBUG)."""
    code = (
        "import django, logging, structlog; django.setup();"
        "structlog.contextvars.bind_contextvars(request_id='r-1');"
        "logging.getLogger('saring.test').warning('a line for %s', 'ops')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "a line for ops" and line["request_id"] == "r-1"
    assert line["level"] == "warning" and line["timestamp"].endswith("Z")


@pytest.mark.django_db(transaction=True)
@override_settings(**FAST)
def test_an_approvals_request_id_reaches_the_worker_log_and_the_operator(
    moderator, supervisor, client_for, tmp_path
):
    simulator = simulator_for("michat")
    broker = RedisServer().start()
    worker = None
    try:
        platform = platform_for(simulator)
        decision = proposal(moderator=moderator, platform=platform)
        with celery_broker(broker.url):
            response = client_for(supervisor).post(
                f"/approvals/{decision.pk}/approve/",
                {"comment": "Clear case."},
                HTTP_X_REQUEST_ID="approval-trace-7",
            )
            assert response.status_code == 302
            assert response["X-Request-Id"] == "approval-trace-7"
            worker = start_worker(redis_url=broker.url, log=tmp_path / "worker.log")
            wait_for(lambda: simulator.stats()["accepted"] == 1, timeout=60, what="delivery")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        broker.stop()
        simulator.stop()
    (received,) = simulator.received.values()
    assert received.traces == ["approval-trace-7"]
    worker_log = (tmp_path / "worker.log").read_text()
    task_lines = [
        json.loads(line)
        for line in io.StringIO(worker_log)
        if line.startswith("{") and "approval-trace-7" in line
    ]
    assert any(line.get("event") == "task_started" for line in task_lines), worker_log[-3000:]


def test_request_lines_carry_no_query_string_and_no_receipt_code(caplog, db):
    caplog.set_level(logging.INFO)
    Client().get("/healthz?q=%2B6281234567890+Siti+Aminah")
    Client().get("/report/status/SR-7KQ4-M2XD")
    logged = " ".join(str(r.msg) for r in caplog.records)
    assert "6281234567890" not in logged and "Siti" not in logged
    assert "SR-7KQ4-M2XD" not in logged
    assert "GET /healthz" in logged and "GET /report/status/…" in logged


def test_djangos_own_request_lines_carry_the_request_id_and_no_receipt_code():
    """Django logs "Not Found: /path" after the request's context is gone: the formatter takes
    the id from the request itself and hides a receipt code in the path."""
    import structlog
    from django.test import RequestFactory

    from config.logs import logging_config

    options = logging_config(log_format="json", level="INFO")["formatters"]["saring"]
    formatter = structlog.stdlib.ProcessorFormatter(
        **{key: value for key, value in options.items() if key != "()"}
    )
    request = RequestFactory().get("/report/status/AB12CD34EF", HTTP_X_REQUEST_ID="r-404")
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (request.path,), None
    )
    record.request = request
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "r-404"
    assert line["event"] == "Not Found: /report/status/…"
