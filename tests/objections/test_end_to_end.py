"""Issue 18's "Done when", end to end against real services: PostgreSQL, a throwaway Redis, a
real Celery worker process, the app on a real port and the operator simulator over HTTP.

A takedown is delivered and confirmed; the operator forwards the owner's objection; the
proposer and the approver are refused; another supervisor grants it; through a spell of 503s
and then 429s exactly one restore request reaches the operator, signed; its callback
`restored` closes it; the public status page and the operator's read show the outcome; every
step is an audit event and the audit chain verifies."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from config.roles import Role
from moderation.audit import log_verify
from moderation.models import (
    AuditEvent,
    Objection,
    RestoreAttempt,
    RestoreRequest,
    TakedownRequest,
)
from moderation.objections import ObjectionRefused, objection_decide
from moderation.takedowns import services as takedowns
from tests.support.auditlog import seal_all
from tests.support.factories import UserFactory
from tests.support.intake import image_bytes
from tests.support.takedowns import (
    RedisServer,
    celery_broker,
    platform_for,
    proposal,
    simulator_for,
    start_worker,
    wait_for,
)

STATEMENT = "Akun ini milik toko batik saya di Solo; nomor itu bukan untuk open BO."
REASON = "The number belongs to a batik shop; the reports named another account."
# A 503 spell, then the operator throttles: what the restore request must come through.
FAULTS = ["503", "503", "503", "429", "429"]


def status_of(model, pk) -> str:
    return model.objects.filter(pk=pk).values_list("status", flat=True).get()


def actions_on(subject, kind: str) -> list[str]:
    """The audit actions `kind.…` recorded on `subject`, in the order they were written."""
    return list(
        AuditEvent.objects.filter(subject_id=str(subject.pk), action__startswith=f"{kind}.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def every_event_sealed() -> bool:
    """Seal what is final. An event is final only once every transaction older than it has
    ended, in the whole PostgreSQL cluster, so another test run sharing the server can hold
    the horizon back for a while: hence a wait, not a single try."""
    seal_all()
    return log_verify().leaves == AuditEvent.objects.count()


@pytest.mark.django_db(transaction=True)
def test_an_objection_is_granted_and_the_account_restored_once_through_503s_and_429s(
    live_server, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    simulator = simulator_for("michat", callback_delay=0.0)
    broker = RedisServer().start()
    worker = None
    proposer = UserFactory(username="proposer", roles=[Role.MODERATOR, Role.SUPERVISOR])
    approver = UserFactory(username="approver", roles=[Role.SUPERVISOR])
    fresh_eyes = UserFactory(username="fresh-eyes", roles=[Role.SUPERVISOR])
    try:
        platform = platform_for(simulator)
        platform.restore_url = simulator.restore_endpoint("michat")
        platform.save(update_fields=["restore_url"])
        with celery_broker(broker.url):
            worker = start_worker(
                redis_url=broker.url,
                env={
                    "SITE_URL": live_server.url,
                    "TAKEDOWN_BACKOFF_BASE_SECONDS": "0.05",
                    "TAKEDOWN_BACKOFF_MAX_SECONDS": "0.2",
                    "OPERATOR_TIMEOUT_SECONDS": "5",
                },
                log=tmp_path / "worker.log",
            )

            # A takedown is delivered by the worker and confirmed by the operator's callback.
            decision = proposal(moderator=proposer, platform=platform)
            takedown = takedowns.proposal_approve(decision_id=decision.pk, supervisor=approver)
            wait_for(
                lambda: status_of(TakedownRequest, takedown.pk) == "taken_down",
                timeout=90,
                what="the takedown delivered and confirmed",
            )

            # The operator forwards the owner's objection.
            answer = simulator.forward_objection(
                "michat",
                str(takedown.pk),
                STATEMENT,
                reference="op-obj-123",
                contact={"name": "Sari", "email": "sari@example.id"},
                attachments=[("toko.png", image_bytes("PNG"))],
            )
            assert answer.status_code == 201, answer.text
            code = answer.json()["objection"]
            objection = Objection.objects.get(receipt_code=code)
            assert (objection.source, objection.statement) == ("operator", STATEMENT)
            assert objection.attachments.count() == 1

            # Neither the approver nor the proposer may decide it.
            for person, why in ((approver, "You approved"), (proposer, "You proposed")):
                with pytest.raises(ObjectionRefused, match=why):
                    objection_decide(
                        objection_id=objection.pk,
                        supervisor=person,
                        outcome="granted",
                        reason="I look again.",
                    )
            assert status_of(Objection, objection.pk) == "received"

            # Another supervisor grants it while the operator fails, then throttles.
            simulator.switches.update({"next_faults": list(FAULTS), "retry_after": 1})
            objection_decide(
                objection_id=objection.pk,
                supervisor=fresh_eyes,
                outcome="granted",
                reason=REASON,
            )
            restore = RestoreRequest.objects.get(objection=objection)
            wait_for(
                lambda: status_of(RestoreRequest, restore.pk) == "restored",
                timeout=120,
                what="the restore delivered and confirmed",
            )
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(20)
        broker.stop()
        simulator.stop()

    # Exactly one restore request reached the operator: one key, acted on once, signed.
    key = str(restore.pk)
    assert list(simulator.restores) == [key]
    assert simulator.restores[key].deliveries == 1
    arrivals = [a for a in simulator.arrivals if a.kind == "restore"]
    assert [a.key for a in arrivals] == [key] * 6
    assert [a.fault for a in arrivals] == [*FAULTS, ""]
    assert [a.status for a in arrivals] == [503, 503, 503, 429, 429, 201]
    assert [a.acted for a in arrivals] == [False] * 5 + [True]
    assert simulator.stats()["rejected_signature"] == 0  # every one was signed right
    assert simulator.restores[key].body["objection"] == {
        "id": code,
        "reference": "op-obj-123",
        "outcome": "granted",
        "reason": REASON,
    }
    assert list(
        RestoreAttempt.objects.filter(request=restore)
        .order_by("number")
        .values_list("outcome", flat=True)
    ) == ["server_error"] * 3 + ["throttled"] * 2 + ["acknowledged"]
    assert {"request_id": key, "status": 200} in simulator.callback_results

    # The callback closed it: the account is cleared.
    restore.refresh_from_db()
    restore.account.refresh_from_db()
    assert restore.status == "restored" and restore.resolved_at
    assert restore.account.status == "cleared"

    # The owner's status page and the operator's read say so.
    html = Client().get(f"/objection/status/{code}").content.decode()
    restored_at = date_format(timezone.localtime(restore.resolved_at), "j M Y H:i") + " WIB"
    assert "Granted" in html and REASON in html
    assert f"Restored by the platform on {restored_at}." in html

    # Every step is an audit event, by whom it was taken, and the chain verifies.
    assert actions_on(objection, "objection") == ["objection.received", "objection.granted"]
    assert actions_on(restore, "restore") == [
        "restore.requested",
        *["restore.retry_scheduled"] * 5,
        "restore.acknowledged",
        "restore.restored",
    ]
    actors = {
        event.action: (event.actor_label, event.actor_user_id)
        for event in AuditEvent.objects.filter(
            action__in=["objection.received", "objection.granted", "restore.restored"]
        )
    }
    assert actors["objection.received"] == ("operator:michat", None)
    assert actors["objection.granted"][1] == fresh_eyes.pk
    assert actors["restore.restored"] == ("operator:michat", None)
    assert AuditEvent.objects.filter(
        action="account.status_changed",
        subject_id=str(restore.account_id),
        data__after__status="cleared",
    ).exists()
    wait_for(
        every_event_sealed,
        timeout=120,
        interval=0.5,
        what="every audit event sealed into the log",
    )
    report = log_verify()
    assert report.intact, report.problem
