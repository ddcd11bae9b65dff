"""The objection services (issue 18): one objection per takedown, repeats recognised, fresh
eyes refused by the service and by the database, and a granted objection's restore request
written in the decision's transaction."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from config.roles import Role
from moderation.audit import Actor
from moderation.models import AuditEvent, Objection, RestoreRequest, TakedownRequest
from moderation.objections import (
    ObjectionInput,
    ObjectionRefused,
    objection_decide,
    objection_receive,
)
from tests.support.factories import UserFactory
from tests.support.objections import carried_out, objected
from tests.support.takedowns import platform_for


@pytest.fixture
def takedown(db, moderator, supervisor):
    return carried_out(moderator=moderator, supervisor=supervisor, platform=platform_for())


@pytest.fixture
def third_supervisor(db):
    return UserFactory(username="supervisor3", roles=[Role.SUPERVISOR])


def test_an_objection_is_linked_to_the_takedown_its_decision_approval_and_account(takedown):
    objection = objected(takedown)
    assert objection.receipt_code.startswith("KB-")
    assert objection.decision_id == takedown.approval.decision_id
    assert objection.approval_id == takedown.approval_id
    assert objection.account_id == takedown.account_id
    assert objection.proposed_by_id == takedown.approval.decision_author_id
    assert objection.approved_by_id == takedown.approval.supervisor_id
    assert (objection.deadline - objection.received_at).days == 14
    assert AuditEvent.objects.filter(
        action="objection.received", subject_id=str(objection.pk)
    ).exists()


def test_a_repeat_is_recognised_and_a_new_statement_is_kept(takedown):
    first = objected(takedown, reference="op-1")
    again = objected(takedown, reference="op-1")
    assert again.pk == first.pk
    other = objected(takedown, statement="I also sell sarongs.")
    assert other.pk == first.pk
    other.refresh_from_db()
    assert [s["text"] for s in other.further_statements] == ["I also sell sarongs."]
    assert Objection.objects.count() == 1


def test_the_same_reference_with_another_body_is_refused(takedown):
    objected(takedown, reference="op-1")
    with pytest.raises(ObjectionRefused) as refused:
        objection_receive(
            item=ObjectionInput(
                takedown_id=takedown.pk,
                source="operator",
                statement="other",
                operator_reference="op-1",
                payload_hash="different",
            ),
            actor=Actor.operator(takedown.platform),
        )
    assert refused.value.code == "reference_reused"


def test_a_takedown_not_carried_out_cannot_be_objected_to(takedown):
    TakedownRequest.objects.filter(pk=takedown.pk).update(status="refused")
    with pytest.raises(ObjectionRefused) as refused:
        objected(takedown)
    assert refused.value.code == "not_taken_down"


def test_the_proposer_and_the_approver_are_refused_and_another_supervisor_decides(
    takedown, moderator, supervisor, third_supervisor
):
    objection = objected(takedown)
    for person in (moderator, supervisor):
        with pytest.raises(ObjectionRefused):
            objection_decide(
                objection_id=objection.pk, supervisor=person, outcome="granted", reason="r"
            )
    decided = objection_decide(
        objection_id=objection.pk,
        supervisor=third_supervisor,
        outcome="granted",
        reason="The shop is real.",
    )
    assert decided.status == "granted"
    restore = RestoreRequest.objects.get(objection=objection)
    assert restore.status == "pending" and restore.reason == "The shop is real."
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"objection.granted", "restore.requested"} <= actions
    with pytest.raises(ObjectionRefused):  # decided once
        objection_decide(
            objection_id=objection.pk, supervisor=third_supervisor, outcome="upheld", reason="r"
        )


def test_the_database_refuses_a_decision_by_the_approver(takedown, supervisor):
    objection = objected(takedown)
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(
            status="upheld", decided_by=supervisor, decided_at=objection.received_at, reason="x"
        )


def test_the_database_refuses_a_forged_approver_copy(takedown, third_supervisor):
    objection = objected(takedown)
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(approved_by=third_supervisor)


def test_an_objection_to_a_restricted_takedown_is_decided_only_by_a_specialist_supervisor(
    db, moderator, specialist_supervisor, third_supervisor
):
    takedown = carried_out(
        moderator=moderator,
        supervisor=specialist_supervisor,
        platform=platform_for(),
        category="child_sexual_abuse",
    )
    objection = objected(takedown)
    with translation.override("en"), pytest.raises(ObjectionRefused, match="Specialist"):
        objection_decide(
            objection_id=objection.pk, supervisor=third_supervisor, outcome="granted", reason="r"
        )
    specialist = UserFactory(username="specialist3", roles=[Role.SUPERVISOR, Role.SPECIALIST])
    decided = objection_decide(
        objection_id=objection.pk, supervisor=specialist, outcome="upheld", reason="Seen: stands."
    )
    assert decided.status == "upheld"
