"""/metrics (config/metrics.py, moderation/metrics.py): never public, the records' real
figures, request latency by view, callbacks by result, one sum over gunicorn's workers, and
every metric the shipped alert rules and dashboard use."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from moderation.models import AuditCheckpoint, Case
from tests.support import ROOT
from tests.support.factories import (
    CaseFactory,
    DeliveryAttemptFactory,
    PlatformFactory,
    ReportFactory,
    TakedownRequestFactory,
    UserFactory,
)
from tests.support.takedowns import (
    callback,
    database_url_of_tests,
    outcome,
    wait_for,
)

pytestmark = pytest.mark.django_db

TOKEN = "test-metrics-token"
METRIC_NAME = re.compile(r"\bsaring_[a-z_]+")


@pytest.fixture(autouse=True)
def _metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_CACHE_SECONDS = 0  # every scrape reads the records afresh


def scrape(client: Client | None = None) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = (client or Client()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content[:500]
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_answer_404_without_a_token_set_and_401_without_the_right_one(settings):
    assert Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for given in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = Client().get("/metrics", headers=given)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"saring_" not in response.content
    # A session is no credential: the administrator signed in gets 401 like anyone.
    administrator = UserFactory(is_staff=True, is_superuser=True)
    signed_in = Client()
    signed_in.force_login(administrator)
    assert signed_in.get("/metrics").status_code == 401
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_report_the_records_real_figures():
    now = timezone.now()
    michat, telegram = PlatformFactory(slug="michat"), PlatformFactory(slug="telegram")
    # The queue: two urgent cases nobody holds (one claimed, its claim lapsed), one urgent
    # case held, one ordinary case opened three hours ago, one closed.
    CaseFactory(urgent=True, priority=98, category="child_sexual_abuse", opened_at=now)
    lapsed = CaseFactory(urgent=True, priority=70, category="terrorism", status="in_review")
    held = CaseFactory(urgent=True, priority=70, category="terrorism", status="in_review")
    oldest = CaseFactory(priority=37, category="gambling", opened_at=now - timedelta(hours=3))
    CaseFactory(priority=90, status="closed", closed_at=now)
    person = UserFactory()
    Case.objects.filter(pk=lapsed.pk).update(
        claimed_by=person, claim_expires_at=now - timedelta(minutes=1)
    )
    Case.objects.filter(pk=held.pk).update(
        claimed_by=person, claim_expires_at=now + timedelta(minutes=10)
    )
    # Takedowns: one overdue to michat, one pending and due for 400 s to telegram (the
    # outbox's lag), one dead-lettered to telegram; delivery attempts by outcome.
    overdue = TakedownRequestFactory(
        platform=michat,
        status="sent",
        issued_at=now - timedelta(hours=30),
        deadline=now - timedelta(hours=6),
    )
    TakedownRequestFactory(
        platform=telegram,
        status="pending",
        issued_at=now - timedelta(seconds=400),
        next_attempt_at=now - timedelta(seconds=400),
    )
    TakedownRequestFactory(platform=telegram, status="failed")
    DeliveryAttemptFactory(request=overdue, number=1, outcome="server_error")
    DeliveryAttemptFactory(request=overdue, number=2, outcome="acknowledged")
    # Intake: two reports from the ministry, one from the public.
    ReportFactory(case=oldest)
    ReportFactory(case=oldest)
    ReportFactory(case=oldest, source_kind="public", organisation=None, external_reference=None)

    samples = scrape()

    assert value(samples, "saring_cases_unclaimed_urgent") == 2
    assert (
        value(
            samples,
            "saring_cases_open",
            band="critical",
            category="child_sexual_abuse",
            status="open",
        )
        == 1
    )
    assert (
        value(samples, "saring_cases_open", band="high", category="terrorism", status="in_review")
        == 2
    )
    assert value(samples, "saring_cases_open", band="low", category="gambling", status="open")
    assert not any(
        name == "saring_cases_open" and ("status", "closed") in labels for name, labels in samples
    )
    waited = value(samples, "saring_case_oldest_waiting_seconds")
    assert 3 * 3600 <= waited < 3 * 3600 + 60
    assert value(samples, "saring_takedowns_overdue", platform="michat") == 1
    assert value(samples, "saring_takedowns_overdue", platform="telegram") == 0
    assert value(samples, "saring_takedowns", platform="telegram", status="failed") == 1
    assert value(samples, "saring_outbox_pending") == 1
    assert 400 <= value(samples, "saring_outbox_oldest_age_seconds") < 460
    assert value(samples, "saring_deliveries_total", platform="michat", outcome="server_error") == 1
    assert value(samples, "saring_deliveries_total", platform="michat", outcome="acknowledged") == 1
    assert value(samples, "saring_reports_received_total", source="ministry") == 2
    assert value(samples, "saring_reports_received_total", source="public") == 1
    assert value(samples, "saring_jobs", kind="export", state="running") == 0
    assert value(samples, "saring_metrics_read_errors") == 0


def test_request_latency_is_recorded_by_view_method_and_status_class():
    name = "saring_http_request_duration_seconds_count"
    labels = {"view": "login", "method": "GET", "status": "2xx"}
    before = value(scrape(), name, **labels) or 0
    for _ in range(3):
        assert Client().get("/login/").status_code == 200
    Client().get("/no-such-page-at-all/")
    after = scrape()
    assert value(after, name, **labels) == before + 3
    assert value(after, name, view="unmatched", method="GET", status="4xx") >= 1


def test_operator_callbacks_are_counted_by_result():
    platform = PlatformFactory(slug="michat")
    request = TakedownRequestFactory(platform=platform, status="sent")
    name = "saring_operator_callbacks_total"
    before = scrape()
    assert callback(platform, outcome(request), secret="not-the-secret").status_code == 401
    assert callback(platform, outcome(request)).status_code == 200
    assert callback(platform, outcome(request)).status_code == 200  # a replay
    after = scrape()
    for result in ("bad_signature", "taken_down", "replay"):
        was = value(before, name, platform="michat", result=result) or 0
        assert value(after, name, platform="michat", result=result) == was + 1, result


def _metric_names_in(expression: str) -> set[str]:
    names = set()
    for name in METRIC_NAME.findall(expression):
        for suffix in ("_bucket", "_count", "_sum"):
            if name.endswith(suffix) and name.startswith("saring_http_request_duration"):
                name = name.removesuffix(suffix)
        names.add(name)
    return names


def test_every_metric_the_alert_rules_and_the_dashboard_use_exists(own_redis):
    # Data enough for every family to have a sample (a checkpoint, a delivery, a callback).
    AuditCheckpoint.objects.create(size=0, root=b"\0" * 32, signed_at=timezone.now(), note="-")
    DeliveryAttemptFactory()
    Client().get("/login/")
    platform = PlatformFactory(slug="michat")
    callback(platform, {"request_id": "nope"}, secret="wrong")
    from config.health import heartbeat

    heartbeat("worker:celery@metrics-test")
    heartbeat("beat")

    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    exposed = set()
    for family in text_string_to_metric_families(response.content.decode()):
        exposed.add(family.name)
        exposed.update(sample.name for sample in family.samples)

    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in _metric_names_in(rule["expr"])
    }
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "saring.json").read_text())
    charted = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in _metric_names_in(target["expr"])
    }
    assert len(used) >= 12 and len(charted) >= 15
    assert used - exposed == set(), "alert rules use metrics /metrics does not have"
    assert charted - exposed == set(), "the dashboard charts metrics /metrics does not have"
    every_rule = [rule for group in rules["groups"] for rule in group["rules"]]
    assert all(rule["alert"] and rule["annotations"]["summary"] for rule in every_rule)


def test_gunicorn_workers_are_summed_into_one_answer(tmp_path):
    """Two gunicorn workers (config/gunicorn.conf.py): requests served by either are counted
    once each, whichever worker answers the scrape."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_tests(),
        "METRICS_TOKEN": TOKEN,
        "METRICS_CACHE_SECONDS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--config",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "gunicorn.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str, headers: dict | None = None) -> bytes:
        request = urllib.request.Request(base + path, headers=headers or {})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.read()

    def answers() -> bool:
        try:
            return get("/healthz") is not None
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        wait_for(answers, timeout=60, what="gunicorn to answer")
        # Side by side, so that both (synchronous) workers serve some.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: get("/healthz"), range(39)))
        wait_for(
            lambda: len(list(metrics_dir.glob("histogram_*.db"))) == 2,
            timeout=5,
            what="both workers to have served requests",
        )
        text = get("/metrics", {"Authorization": f"Bearer {TOKEN}"}).decode()
    finally:
        server.terminate()
        server.wait(30)
    counts = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "saring_http_request_duration_seconds_count"
        and sample.labels["view"] == "healthz"
    ]
    assert counts == [40.0]
