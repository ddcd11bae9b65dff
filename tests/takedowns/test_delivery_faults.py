"""Takedown delivery under faults (issue 5), against the real PostgreSQL, Redis and an HTTP
operator (the simulator): Redis down at approval, a worker killed mid-delivery, an operator
failing then recovering, throttling, a hanging connection, and hostile callbacks.

In every case: nothing lost, the operator never sees two ids for one takedown, and the
delivery history says what happened."""

from __future__ import annotations

import base64
import json
import signal
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.test import Client, override_settings
from django.utils import timezone

from accounts import signing
from moderation.models import AuditEvent, DeliveryAttempt, TakedownRequest
from moderation.takedowns import services as takedowns
from moderation.takedowns.tasks import takedown_deliver_task
from tests.support.takedowns import (
    FAST,
    RedisServer,
    callback,
    celery_broker,
    deliver_until_settled,
    outcome,
    outcomes,
    platform_for,
    proposal,
    simulator_for,
    start_worker,
    wait_for,
)


@pytest.fixture
def simulator():
    sim = simulator_for("michat")
    yield sim
    sim.stop()


@pytest.fixture
def platform(db, simulator):
    return platform_for(simulator)


def approved(moderator, supervisor, platform) -> TakedownRequest:
    decision = proposal(moderator=moderator, platform=platform)
    return takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)


def assert_operator_saw_one_id(simulator, request: TakedownRequest) -> None:
    keys = list(simulator.received)
    assert keys == [str(request.pk)]
    body = simulator.received[str(request.pk)].body
    assert body["request_id"] == str(request.pk)


# --- the operator misbehaves ---------------------------------------------------------------


@override_settings(**FAST)
def test_it_retries_through_503s_until_the_operator_recovers(
    simulator, platform, moderator, supervisor
):
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"failure_rate": 1.0})
    for _ in range(3):
        deliver_until_settled(request.pk, rounds=1)
    request.refresh_from_db()
    assert request.status == "pending" and request.attempts == 3
    assert "HTTP 503" in request.last_error
    simulator.switches.update({"failure_rate": 0.0})
    request = deliver_until_settled(request.pk)
    assert request.status == "acknowledged"
    assert request.operator_reference.startswith("SIM-MICHAT-")
    assert outcomes(request.pk) == ["server_error"] * 3 + ["acknowledged"]
    statuses = list(
        DeliveryAttempt.objects.filter(request=request).values_list("http_status", flat=True)
    )
    assert statuses == [503, 503, 503, 201]
    assert_operator_saw_one_id(simulator, request)
    assert simulator.stats()["failed_503"] == 3


@override_settings(**(FAST | {"TAKEDOWN_MAX_ATTEMPTS": 3}))
def test_it_dead_letters_after_the_last_attempt_and_a_supervisor_can_retry(
    simulator, platform, moderator, supervisor
):
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"failure_rate": 1.0})
    request = deliver_until_settled(request.pk)
    assert request.status == "failed"
    assert request.attempts == 3 and request.next_attempt_at is None
    assert AuditEvent.objects.filter(action="takedown.failed", subject_id=str(request.pk)).exists()
    simulator.switches.update({"failure_rate": 0.0})
    takedowns.takedown_retry(request_id=request.pk, supervisor=supervisor)
    request = deliver_until_settled(request.pk)
    assert request.status == "acknowledged"
    assert outcomes(request.pk) == ["server_error"] * 3 + ["acknowledged"]
    assert_operator_saw_one_id(simulator, request)


@override_settings(**FAST)
def test_it_honours_retry_after_on_429(simulator, platform, moderator, supervisor):
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"rate_429": 1.0, "retry_after": 1})
    before = timezone.now()
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
    request.refresh_from_db()
    wait = (request.next_attempt_at - before).total_seconds()
    assert 0.9 <= wait <= 1.6, wait
    # Asked again before Retry-After has passed: nothing is sent.
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "skipped"
    assert simulator.stats()["requests"] == 1
    simulator.switches.update({"rate_429": 0.0})
    request = deliver_until_settled(request.pk)
    assert request.status == "acknowledged"
    assert outcomes(request.pk) == ["throttled", "acknowledged"]
    assert_operator_saw_one_id(simulator, request)


@override_settings(**FAST)
def test_a_hanging_connection_times_out_and_is_retried(simulator, platform, moderator, supervisor):
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"hang_rate": 1.0, "hang_seconds": 3})
    started = time.monotonic()
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "timeout"
    assert time.monotonic() - started < 2.5
    simulator.switches.update({"hang_rate": 0.0})
    request = deliver_until_settled(request.pk)
    assert request.status == "acknowledged"
    attempt = DeliveryAttempt.objects.get(request=request, number=1)
    assert attempt.outcome == "timeout" and attempt.http_status is None
    assert "timeout after 0.5 s" in attempt.error
    assert attempt.latency_ms >= 450
    assert_operator_saw_one_id(simulator, request)


@override_settings(**FAST)
def test_a_4xx_refuses_for_good_and_keeps_the_reason(moderator, supervisor, simulator):
    # The operator knows another signing secret: every request is answered 401.
    platform = platform_for(simulator, signing_secret="not-what-the-operator-knows-" * 2)
    request = approved(moderator, supervisor, platform)
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "refused"
    request.refresh_from_db()
    assert request.status == "refused"
    assert "HTTP 401" in request.last_error and "bad signature" in request.last_error
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "skipped"
    assert simulator.stats()["requests"] == 1
    request.case.refresh_from_db()
    assert request.case.status == "closed"


@override_settings(**FAST)
def test_a_second_delivery_of_an_acknowledged_request_sends_nothing(
    simulator, platform, moderator, supervisor
):
    request = approved(moderator, supervisor, platform)
    assert takedown_deliver_task(str(request.pk)) == "acknowledged"
    assert takedown_deliver_task(str(request.pk)) == "skipped"
    assert takedown_deliver_task("not-a-uuid") == "unknown"
    assert simulator.stats()["requests"] == 1


@override_settings(**FAST)
def test_the_request_is_signed_and_carries_the_contracts_fields(
    simulator, platform, moderator, supervisor
):
    request = approved(moderator, supervisor, platform)
    takedowns.takedown_deliver(request_id=str(request.pk))
    body = simulator.received[str(request.pk)].body
    assert set(body) == {
        "request_id",
        "platform",
        "account",
        "category",
        "legal_basis",
        "urgency",
        "issued_at",
        "deadline",
        "summary",
        "callback_url",
    }
    assert set(body["account"]) == {"identifier", "display_name", "profile_url"}
    assert body["platform"] == "michat"
    assert body["legal_basis"] == "UU ITE Pasal 27 ayat (1)"
    assert body["callback_url"].endswith("/api/v1/operators/michat/callbacks/")
    assert body["issued_at"].endswith("Z") and body["deadline"].endswith("Z")


# --- Redis down at approval ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(**(FAST | {"TAKEDOWN_SWEEP_GRACE_SECONDS": 0}))
def test_an_approval_succeeds_while_redis_is_down_and_the_sweeper_delivers_later(
    simulator, moderator, supervisor
):
    platform = platform_for(simulator)
    decision = proposal(moderator=moderator, platform=platform)
    broker = RedisServer().start()
    try:
        with celery_broker(broker.url):
            broker.stop()
            started = time.monotonic()
            request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
            assert time.monotonic() - started < 2  # no long connection back-off
            request.refresh_from_db()
            assert request.status == "pending"
            request.case.refresh_from_db()
            assert request.case.status == "approved"
            # Nothing can reach the broker yet; the row waits in the outbox.
            broker.start()
            queued = takedowns.takedown_sweep()
            assert queued == [str(request.pk)]
            messages = redis.Redis.from_url(broker.url).lrange("celery", 0, -1)
            assert len(messages) == 1
            envelope = json.loads(messages[0])
            assert envelope["headers"]["task"] == "moderation.takedown_deliver"
            args = json.loads(base64.b64decode(envelope["body"]))[0]
            # What the worker would run for that message, run here.
            assert takedown_deliver_task(*args) == "acknowledged"
    finally:
        broker.stop()
    request.refresh_from_db()
    assert request.status == "acknowledged"
    assert_operator_saw_one_id(simulator, request)


# --- a worker killed mid-delivery ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(**(FAST | {"TAKEDOWN_STUCK_AFTER_SECONDS": 0}))
def test_a_worker_killed_mid_delivery_loses_nothing_and_the_operator_acts_once(
    simulator, moderator, supervisor, tmp_path
):
    platform = platform_for(simulator)
    decision = proposal(moderator=moderator, platform=platform)
    simulator.switches.update({"latency_ms": 4000})
    broker = RedisServer().start()
    workers = []
    worker_env = {"OPERATOR_TIMEOUT_SECONDS": "10", "TAKEDOWN_BACKOFF_BASE_SECONDS": "0.05"}
    try:
        with celery_broker(broker.url):
            request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
            first = start_worker(redis_url=broker.url, env=worker_env, log=tmp_path / "w1.log")
            workers.append(first)
            # The operator has the request and is slow to answer: kill the worker now.
            wait_for(lambda: simulator.stats()["requests"] >= 1, timeout=60, what="delivery")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            request.refresh_from_db()
            assert request.status == "sent"
            assert outcomes(request.pk) == ["in_progress"]
            simulator.switches.update({"latency_ms": 0})
            # The operator finishes the orphaned call on its side (it answers a dead socket).
            wait_for(lambda: simulator.stats()["accepted"] == 1, timeout=10, what="operator")
            assert takedowns.takedown_sweep() == [str(request.pk)]
            second = start_worker(redis_url=broker.url, env=worker_env, log=tmp_path / "w2.log")
            workers.append(second)

            def settled():
                request.refresh_from_db()
                return request.status == "acknowledged"

            wait_for(settled, timeout=60, what="the second worker")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(20)
        broker.stop()
    assert_operator_saw_one_id(simulator, request)
    stats = simulator.stats()
    assert stats["accepted"] == 1 and stats["duplicates"] == 1
    assert simulator.received[str(request.pk)].deliveries == 2
    assert outcomes(request.pk) == ["lost", "duplicate"]
    lost = DeliveryAttempt.objects.get(request=request, number=1)
    assert "worker lost" in lost.error
    assert request.operator_reference == simulator.received[str(request.pk)].reference
    assert AuditEvent.objects.filter(
        action="takedown.reclaimed", subject_id=str(request.pk)
    ).exists()


def test_a_late_answer_from_a_reclaimed_attempt_changes_nothing(
    simulator, platform, moderator, supervisor
):
    """A worker that was only slow, not dead, comes back after the sweeper took its row."""
    request = approved(moderator, supervisor, platform)
    claimed = takedowns.delivery._claim(str(request.pk), timezone.now())
    attempt = DeliveryAttempt.objects.create(
        request=claimed, number=1, started_at=timezone.now(), outcome="in_progress"
    )
    with override_settings(TAKEDOWN_STUCK_AFTER_SECONDS=0):
        assert takedowns.takedown_sweep() == [str(request.pk)]
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "acknowledged"
    late = takedowns.delivery._Answer("acknowledged", 201, 5, reference="late")
    outcome = takedowns.delivery._record_answer(request=claimed, attempt=attempt, answer=late)
    assert outcome.endswith(":stale")
    request.refresh_from_db()
    assert request.status == "acknowledged" and request.operator_reference != "late"


# --- callbacks -----------------------------------------------------------------------------


@pytest.fixture
def acknowledged(simulator, platform, moderator, supervisor):
    request = approved(moderator, supervisor, platform)
    takedowns.takedown_deliver(request_id=str(request.pk))
    request.refresh_from_db()
    assert request.status == "acknowledged"
    return request


def test_a_callback_marks_the_account_taken_down_and_closes_the_case(acknowledged, platform):
    response = callback(platform, outcome(acknowledged))
    assert response.status_code == 200
    assert response.json() == {
        "request_id": str(acknowledged.pk),
        "status": "taken_down",
        "changed": True,
    }
    acknowledged.refresh_from_db()
    acknowledged.account.refresh_from_db()
    acknowledged.case.refresh_from_db()
    assert acknowledged.status == "taken_down" and acknowledged.resolved_at
    assert acknowledged.account.status == "taken_down"
    assert acknowledged.case.status == "closed"
    event = AuditEvent.objects.get(action="takedown.taken_down")
    assert event.actor_kind == "operator" and event.actor_label == "operator:michat"


def test_a_replayed_callback_changes_nothing(acknowledged, platform):
    assert callback(platform, outcome(acknowledged)).status_code == 200
    events = AuditEvent.objects.count()
    replay = callback(platform, outcome(acknowledged, "refused"))
    assert replay.status_code == 200
    assert replay.json() == {
        "request_id": str(acknowledged.pk),
        "status": "taken_down",
        "changed": False,
    }
    assert AuditEvent.objects.count() == events
    acknowledged.refresh_from_db()
    assert acknowledged.status == "taken_down"


def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(acknowledged, platform):
    events = AuditEvent.objects.count()
    response = callback(platform, outcome(acknowledged), secret="forged-secret-" * 3)
    assert response.status_code == 401
    assert response.json() == {"error": "bad signature"}
    acknowledged.refresh_from_db()
    assert acknowledged.status == "acknowledged"
    assert AuditEvent.objects.count() == events


def test_a_stale_callback_is_refused(acknowledged, platform):
    response = callback(platform, outcome(acknowledged), now=time.time() - 301)
    assert response.status_code == 401
    assert response.json() == {"error": "stale timestamp"}
    acknowledged.refresh_from_db()
    assert acknowledged.status == "acknowledged"


def test_a_callback_for_an_unknown_request_or_another_platform_is_404(acknowledged, platform):
    unknown = outcome(acknowledged) | {"request_id": str(uuid.uuid4())}
    assert callback(platform, unknown).status_code == 404
    other = platform_for(None, slug="telegram")
    assert callback(other, outcome(acknowledged)).status_code == 404
    response = Client().post(
        "/api/v1/operators/nosuch/callbacks/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    acknowledged.refresh_from_db()
    assert acknowledged.status == "acknowledged"


def test_a_malformed_callback_gets_a_400_with_fields(acknowledged, platform):
    response = callback(platform, {"request_id": "x", "status": "gone"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"request_id", "status"}
    body = b"not json"
    response = Client().post(
        f"/api/v1/operators/{platform.slug}/callbacks/",
        data=body,
        content_type="application/json",
        headers=signing.signed_headers(platform.callback_secret, body),
    )
    assert response.status_code == 400


def test_refused_and_not_found_callbacks_set_the_account_back(
    simulator, platform, moderator, supervisor
):
    first = approved(moderator, supervisor, platform)
    second = approved(moderator, supervisor, platform)
    for request in (first, second):
        takedowns.takedown_deliver(request_id=str(request.pk))
    assert callback(platform, outcome(first, "refused") | {"reason": "disputed"}).status_code == 200
    assert callback(platform, outcome(second, "not_found")).status_code == 200
    first.refresh_from_db()
    first.account.refresh_from_db()
    second.account.refresh_from_db()
    assert first.status == "refused" and first.last_error == "disputed"
    assert first.account.status == "under_review"
    assert second.account.status == "active"


def test_the_simulators_own_callback_reaches_us_over_http(
    live_server, moderator, supervisor, settings
):
    settings.SITE_URL = live_server.url
    sim = simulator_for("michat", callback_delay=0.0)
    try:
        platform = platform_for(sim)
        request = approved(moderator, supervisor, platform)
        takedowns.takedown_deliver(request_id=str(request.pk))
        wait_for(lambda: sim.stats()["callbacks_sent"] == 1, timeout=15, what="callback")
    finally:
        sim.stop()
    request.refresh_from_db()
    assert request.status == "taken_down"
    assert sim.callback_results == [{"request_id": str(request.pk), "status": 200}]


# --- SLA -----------------------------------------------------------------------------------


@override_settings(TAKEDOWN_WARNING_AFTER_HOURS=(0.0, 2.0, 6.0))
def test_the_sla_check_marks_overdue_and_climbs_the_warning_ladder(platform, moderator, supervisor):
    request = approved(moderator, supervisor, platform)
    assert takedowns.takedown_sla_check() == {"overdue": 0, "warnings": 0}
    TakedownRequest.objects.filter(pk=request.pk).update(
        deadline=timezone.now() - timedelta(hours=3)
    )
    assert takedowns.takedown_sla_check() == {"overdue": 1, "warnings": 2}
    request.refresh_from_db()
    assert request.overdue_at and request.warning_level == 2
    assert takedowns.takedown_sla_check() == {"overdue": 0, "warnings": 0}
    TakedownRequest.objects.filter(pk=request.pk).update(
        deadline=timezone.now() - timedelta(hours=7)
    )
    assert takedowns.takedown_sla_check() == {"overdue": 0, "warnings": 1}
    levels = [
        e.data["level"]
        for e in AuditEvent.objects.filter(action="takedown.warning").order_by("sequence")
    ]
    assert levels == [1, 2, 3]


# --- the per-platform rate limit -----------------------------------------------------------


def test_the_rate_limit_spaces_sends_per_platform_across_callers(db):
    """Every worker reserves its slot in the same Redis key, so these waits add up across
    processes; another platform has its own key."""
    slow = platform_for(None, slug=f"slow{uuid.uuid4().hex[:6]}")
    slow.rate_limit_per_second = 5
    other = platform_for(None, slug=f"other{uuid.uuid4().hex[:6]}")
    waits = [takedowns.platform_rate_wait(platform=slow) for _ in range(4)]
    assert waits[0] == pytest.approx(0, abs=0.05)
    for earlier, later in zip(waits, waits[1:], strict=False):
        assert later - earlier == pytest.approx(0.2, abs=0.05)
    assert takedowns.platform_rate_wait(platform=other) == pytest.approx(0, abs=0.05)
