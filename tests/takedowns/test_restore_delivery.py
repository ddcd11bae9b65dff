"""Restore requests of granted objections (docs/objections.md section 3) are delivered by the
takedowns' own machinery, against a real HTTP operator (the simulator): signed, refused for
good on a 4xx, acknowledged on a 409, dead-lettered without an address, re-queued by the
sweeper when lost, and never moved by a late answer."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings
from django.utils import timezone

from config.roles import Role
from moderation.models import AuditEvent, RestoreAttempt, RestoreRequest
from moderation.objections import objection_decide
from moderation.takedowns import services as takedowns
from moderation.takedowns.services import delivery
from tests.support.factories import UserFactory
from tests.support.objections import carried_out, objected
from tests.support.takedowns import (
    FAST,
    CannedOperator,
    callback,
    outcome,
    platform_for,
    simulator_for,
)


@pytest.fixture
def simulator():
    sim = simulator_for("michat")
    yield sim
    sim.stop()


@pytest.fixture
def platform(db, simulator):
    platform = platform_for(simulator)
    platform.restore_url = simulator.restore_endpoint("michat")
    platform.save(update_fields=["restore_url"])
    return platform


@pytest.fixture
def restore(platform, moderator, supervisor) -> RestoreRequest:
    """A granted objection's restore request, pending in the outbox."""
    takedown = carried_out(moderator=moderator, supervisor=supervisor, platform=platform)
    objection = objected(takedown, reference="op-obj-1")
    deciding = UserFactory(username="supervisor-fresh", roles=[Role.SUPERVISOR])
    objection_decide(
        objection_id=objection.pk,
        supervisor=deciding,
        outcome="granted",
        reason="The number belongs to a batik shop.",
    )
    return RestoreRequest.objects.get(objection=objection)


def restore_outcomes(request_id) -> list[str]:
    return list(
        RestoreAttempt.objects.filter(request_id=request_id)
        .order_by("number")
        .values_list("outcome", flat=True)
    )


def deliver_until_settled(request_id, *, rounds: int = 20) -> RestoreRequest:
    """What the worker and the sweeper do over time, in-process: deliver whenever due."""
    for _ in range(rounds):
        request = RestoreRequest.objects.get(pk=request_id)
        if request.status != RestoreRequest.Status.PENDING:
            return request
        if request.next_attempt_at:
            wait = (request.next_attempt_at - timezone.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
        takedowns.restore_deliver(request_id=str(request_id))
    return RestoreRequest.objects.get(pk=request_id)


@override_settings(**FAST)
def test_a_restore_request_is_signed_keyed_and_carries_the_contracts_fields(simulator, restore):
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "acknowledged"
    assert list(simulator.restores) == [str(restore.pk)]  # the Idempotency-Key it was sent under
    assert simulator.received == {}  # nothing came to the takedown endpoint
    assert simulator.stats()["rejected_signature"] == 0
    body = simulator.restores[str(restore.pk)].body
    assert set(body) == {
        "request_id",
        "platform",
        "takedown_request_id",
        "account",
        "objection",
        "issued_at",
        "callback_url",
    }
    assert body["request_id"] == str(restore.pk)
    assert body["takedown_request_id"] == str(restore.takedown_id)
    assert body["objection"] == {
        "id": restore.objection.receipt_code,
        "reference": "op-obj-1",
        "outcome": "granted",
        "reason": "The number belongs to a batik shop.",
    }
    assert body["callback_url"].endswith("/api/v1/operators/michat/callbacks/")
    restore.refresh_from_db()
    assert restore.status == "acknowledged"
    assert restore.operator_reference.startswith("SIM-RESTORE-MICHAT-")


@override_settings(**FAST)
def test_a_4xx_refuses_a_restore_for_good_and_keeps_the_reason(moderator, supervisor, simulator):
    # The operator knows another signing secret: every request is answered 401.
    platform = platform_for(simulator, signing_secret="not-what-the-operator-knows-" * 2)
    platform.restore_url = simulator.restore_endpoint("michat")
    platform.save(update_fields=["restore_url"])
    takedown = carried_out(moderator=moderator, supervisor=supervisor, platform=platform)
    objection = objected(takedown)
    objection_decide(
        objection_id=objection.pk,
        supervisor=UserFactory(username="supervisor-fresh", roles=[Role.SUPERVISOR]),
        outcome="granted",
        reason="A namesake.",
    )
    restore = RestoreRequest.objects.get(objection=objection)
    account_status = restore.account.status
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "refused"
    restore.refresh_from_db()
    assert restore.status == "refused" and restore.resolved_at
    assert "HTTP 401" in restore.last_error and "bad signature" in restore.last_error
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "skipped"
    assert simulator.stats()["requests"] == 1
    restore.account.refresh_from_db()
    assert restore.account.status == account_status != "cleared"  # nothing was restored
    assert AuditEvent.objects.filter(action="restore.refused", subject_id=str(restore.pk)).exists()


@override_settings(**FAST)
def test_a_409_is_treated_as_acknowledged(platform, restore):
    operator = CannedOperator(409, b'{"reference": "OP-RESTORE-7"}')
    try:
        platform.restore_url = f"{operator.url}/restores"
        platform.save(update_fields=["restore_url"])
        assert takedowns.restore_deliver(request_id=str(restore.pk)) == "duplicate"
    finally:
        operator.stop()
    restore.refresh_from_db()
    assert restore.status == "acknowledged"
    assert restore.operator_reference == "OP-RESTORE-7"
    assert restore_outcomes(restore.pk) == ["duplicate"]


@override_settings(**FAST)
def test_a_platform_without_a_restore_url_dead_letters_at_once_with_a_clear_last_error(
    simulator, platform, restore, supervisor
):
    platform.restore_url = ""
    platform.save(update_fields=["restore_url"])
    restore = deliver_until_settled(restore.pk)
    assert restore.status == "failed"
    assert restore.last_error == "the platform has no restore endpoint URL; nothing sent"
    assert restore_outcomes(restore.pk) == ["no_endpoint"]  # one try, not TAKEDOWN_MAX_ATTEMPTS
    assert simulator.stats()["requests"] == 0
    # An administrator sets the address; a supervisor retries the dead letter.
    platform.restore_url = simulator.restore_endpoint("michat")
    platform.save(update_fields=["restore_url"])
    takedowns.restore_retry(request_id=restore.pk, supervisor=supervisor)
    restore = deliver_until_settled(restore.pk)
    assert restore.status == "acknowledged"
    assert list(simulator.restores) == [str(restore.pk)]


@override_settings(**FAST)
def test_503s_and_429s_are_retried_and_the_operator_sees_one_restore(simulator, restore):
    simulator.switches.update({"next_faults": ["503", "429"], "retry_after": 1})
    restore = deliver_until_settled(restore.pk)
    assert restore.status == "acknowledged"
    assert restore_outcomes(restore.pk) == ["server_error", "throttled", "acknowledged"]
    assert list(simulator.restores) == [str(restore.pk)]
    assert simulator.restores[str(restore.pk)].deliveries == 1
    assert [a.key for a in simulator.arrivals] == [str(restore.pk)] * 3


@override_settings(**(FAST | {"TAKEDOWN_SWEEP_GRACE_SECONDS": 0}))
def test_the_sweeper_requeues_a_restore_whose_message_was_lost(simulator, restore):
    # The grant's on-commit message never reached a worker: the row waits, pending.
    assert takedowns.restore_sweep() == [str(restore.pk)]
    assert takedowns.takedown_sweep() == []  # each sweep keeps to its own outbox
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "acknowledged"


@override_settings(**FAST)
def test_the_sweeper_requeues_a_restore_whose_worker_was_lost(simulator, restore):
    claimed = delivery._claim(str(restore.pk), timezone.now(), delivery.RESTORES)
    RestoreAttempt.objects.create(
        request=claimed, number=1, started_at=timezone.now(), outcome="in_progress"
    )
    with override_settings(TAKEDOWN_STUCK_AFTER_SECONDS=0):
        assert takedowns.restore_sweep() == [str(restore.pk)]
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "acknowledged"
    assert restore_outcomes(restore.pk) == ["lost", "acknowledged"]
    assert AuditEvent.objects.filter(
        action="restore.reclaimed", subject_id=str(restore.pk)
    ).exists()


@override_settings(**FAST)
def test_a_late_answer_from_a_reclaimed_attempt_changes_nothing(simulator, restore):
    claimed = delivery._claim(str(restore.pk), timezone.now(), delivery.RESTORES)
    attempt = RestoreAttempt.objects.create(
        request=claimed, number=1, started_at=timezone.now(), outcome="in_progress"
    )
    with override_settings(TAKEDOWN_STUCK_AFTER_SECONDS=0):
        assert takedowns.restore_sweep() == [str(restore.pk)]
    assert takedowns.restore_deliver(request_id=str(restore.pk)) == "acknowledged"
    late = delivery._Answer("acknowledged", 201, 5, reference="late")
    result = delivery._record_answer(
        request=claimed, attempt=attempt, answer=late, outbox=delivery.RESTORES
    )
    assert result.endswith(":stale")
    restore.refresh_from_db()
    assert restore.status == "acknowledged" and restore.operator_reference != "late"


@override_settings(**FAST)
def test_the_callback_restored_clears_the_account_and_a_takedown_outcome_is_refused(
    platform, restore
):
    takedowns.restore_deliver(request_id=str(restore.pk))
    wrong = callback(platform, outcome(restore, "taken_down"))
    assert wrong.status_code == 400
    assert "restore request" in wrong.json()["fields"]["status"]
    restored = callback(platform, outcome(restore, "restored"))
    assert restored.status_code == 200
    assert restored.json() == {"request_id": str(restore.pk), "status": "restored", "changed": True}
    restore.refresh_from_db()
    restore.account.refresh_from_db()
    assert restore.status == "restored" and restore.resolved_at
    assert restore.account.status == "cleared"
    replay = callback(platform, outcome(restore, "restored"))
    assert replay.json()["changed"] is False
    forged = callback(platform, outcome(restore, "refused"), secret="forged-secret-" * 3)
    assert forged.status_code == 401
    restore.refresh_from_db()
    assert restore.status == "restored"
