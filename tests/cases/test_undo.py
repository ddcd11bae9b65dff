"""Undo of a decision (issue 16): its author may withdraw it within DECISION_UNDO_SECONDS
while nothing has followed from it; the case returns to where it was, the decision stays,
marked withdrawn, and the audit trail records the undo."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from moderation.audit.selectors import decision_log
from moderation.audit.services.exports import copy_csv
from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    case_claim_next,
    case_decide,
    decision_withdraw,
)
from moderation.models import AuditEvent, Case, Decision, TakedownRequest
from moderation.takedowns import services as takedowns
from moderation.takedowns.selectors import proposals_awaiting
from moderation.takedowns.services import ApprovalRefused
from tests.support.factories import CaseFactory, LegalBasisFactory, ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _undo_window(settings):
    settings.DECISION_UNDO_SECONDS = 60


def propose(moderator) -> Decision:
    basis = LegalBasisFactory()
    case = CaseFactory(category="prostitution")
    claimed = case_claim_next(moderator=moderator)
    return case_decide(
        case_id=case.pk,
        version=claimed.version,
        user=moderator,
        data=DecisionInput(
            outcome="propose_takedown",
            rationale="Price list for paid sex in the profile.",
            category="prostitution",
            legal_basis_id=basis.pk,
        ),
    )


def age(decision: Decision, seconds: int) -> None:
    """Move the decision back in time, as if it had been made `seconds` ago."""
    Decision.objects.filter(pk=decision.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_its_author_undoes_a_proposal_within_the_window(moderator):
    decision = propose(moderator)
    age(decision, 50)
    decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator)

    case = Case.objects.get(pk=decision.case_id)
    # Back in review, the author's again for a fresh lease, one version on.
    assert case.status == "in_review" and case.claimed_by == moderator
    assert case.claim_expires_at > timezone.now()
    assert case.version == decision.case_version + 2
    decision.refresh_from_db()
    assert decision.withdrawn_at is not None  # kept, marked withdrawn
    event = AuditEvent.objects.get(action="decision.withdrawn")
    assert event.data["decision"] == decision.pk
    assert event.data["before"]["status"] == "proposed"
    assert event.data["after"] == {
        "status": "in_review",
        "version": case.version,
        "claimed_by": moderator.pk,
    }
    # Neither the approvals list nor the decision log shows a withdrawn decision.
    assert decision not in proposals_awaiting()
    assert decision not in decision_log(filters={})


def test_the_case_can_be_decided_again_after_an_undo(moderator):
    decision = propose(moderator)
    decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator)
    case = Case.objects.get(pk=decision.case_id)
    again = case_decide(
        case_id=case.pk,
        version=case.version,
        user=moderator,
        data=DecisionInput(outcome="dismiss", rationale="On a second look: satire."),
    )
    assert Case.objects.get(pk=case.pk).status == "dismissed"
    assert list(decision_log(filters={})) == [again]


def test_an_undone_dismissal_of_an_unclaimed_case_returns_it_open(moderator):
    case = CaseFactory()
    decision = case_decide(
        case_id=case.pk,
        version=case.version,
        user=moderator,
        data=DecisionInput(outcome="dismiss", rationale="Satire account."),
    )
    decision_withdraw(case_id=case.pk, decision_id=decision.pk, user=moderator)
    case.refresh_from_db()
    assert case.status == "open" and case.claimed_by is None and case.closed_at is None


def test_it_refuses_an_undo_after_the_window(moderator):
    decision = propose(moderator)
    age(decision, 61)
    with pytest.raises(CaseActionError, match="time to undo this decision has passed"):
        decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator)
    assert Case.objects.get(pk=decision.case_id).status == "proposed"
    assert Decision.objects.get(pk=decision.pk).withdrawn_at is None
    assert not AuditEvent.objects.filter(action="decision.withdrawn").exists()


def test_it_refuses_an_undo_once_a_supervisor_approved(moderator, supervisor):
    decision = propose(moderator)
    takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    with pytest.raises(CaseActionError, match="supervisor has already acted"):
        decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator)
    assert Case.objects.get(pk=decision.case_id).status == "approved"
    assert TakedownRequest.objects.filter(case_id=decision.case_id).count() == 1


def test_it_refuses_an_undo_by_someone_else(moderator, moderator2):
    decision = propose(moderator)
    with pytest.raises(CaseActionError, match="Only the person who made a decision"):
        decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator2)
    assert Case.objects.get(pk=decision.case_id).status == "proposed"


def test_it_refuses_to_undo_a_dismissal_once_a_new_case_opened_on_the_account(moderator):
    case = CaseFactory()
    decision = case_decide(
        case_id=case.pk,
        version=case.version,
        user=moderator,
        data=DecisionInput(outcome="dismiss", rationale="Satire account."),
    )
    CaseFactory(account=case.account, previous_case=case)  # a new report opened a new case
    with pytest.raises(CaseActionError, match="new case has been opened"):
        decision_withdraw(case_id=case.pk, decision_id=decision.pk, user=moderator)
    assert Case.objects.get(pk=case.pk).status == "dismissed"


def test_a_withdrawn_proposal_cannot_be_approved(moderator, supervisor):
    decision = propose(moderator)
    decision_withdraw(case_id=decision.case_id, decision_id=decision.pk, user=moderator)
    with pytest.raises(ApprovalRefused, match="withdrawn"):
        takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    assert not TakedownRequest.objects.exists()


def test_the_message_says_what_was_decided_and_offers_the_undo(moderator, client_for):
    LegalBasisFactory()
    case = CaseFactory()
    ReportFactory(case=case)
    client = client_for(moderator)
    client.post("/queue/next/")
    response = client.post(
        f"/cases/{case.pk}/decide/",
        {"outcome": "dismiss", "version": 2, "rationale": "Satire.", "then": "queue"},
        follow=True,
    )
    html = response.content.decode()
    decision = Decision.objects.get(case=case)
    assert f"Case #{case.pk} dismissed." in html
    undo_url = f"/cases/{case.pk}/decisions/{decision.pk}/undo/"
    assert f'action="{undo_url}"' in html

    undone = client.post(undo_url, follow=True)
    assert f"Decision undone: case #{case.pk} is back as it was." in undone.content.decode()
    case.refresh_from_db()
    assert case.status == "in_review" and case.claimed_by == moderator
    # The offer is gone once used.
    assert 'class="undo-offer"' not in client.get("/queue/").content.decode()


def test_an_undo_from_the_next_case_gives_that_case_back_to_the_queue(moderator, client_for):
    first = CaseFactory(priority=90)
    second = CaseFactory(priority=50)
    client = client_for(moderator)
    client.post("/queue/next/")
    response = client.post(
        f"/cases/{first.pk}/decide/",
        {"outcome": "dismiss", "version": 2, "rationale": "Satire.", "then": "next"},
    )
    assert response["Location"] == f"/cases/{second.pk}/"
    assert Case.objects.get(pk=second.pk).claimed_by == moderator
    decision = Decision.objects.get(case=first)

    client.post(f"/cases/{first.pk}/decisions/{decision.pk}/undo/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "in_review" and first.claimed_by == moderator
    assert second.status == "open" and second.claimed_by is None
    released = AuditEvent.objects.get(action="case.released", subject_id=str(second.pk))
    assert released.data["reason"] == "undo"


def test_the_undo_view_shows_a_refusal_after_the_window(moderator, client_for):
    decision = propose(moderator)
    age(decision, 61)
    client = client_for(moderator)
    response = client.post(f"/cases/{decision.case_id}/decisions/{decision.pk}/undo/", follow=True)
    assert "The time to undo this decision has passed." in response.content.decode()
    assert Case.objects.get(pk=decision.case_id).status == "proposed"


def test_the_decision_message_and_the_undo_offer_are_in_indonesian(moderator, client_for):
    case = CaseFactory()
    client = client_for(moderator)
    client.post("/queue/next/")
    # The request leaves Indonesian active in this thread; `override` puts English back.
    with translation.override("en"):
        response = client.post(
            f"/cases/{case.pk}/decide/",
            {"outcome": "escalate", "version": 2, "rationale": "Minor?", "then": "queue"},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="id",
        )
    html = response.content.decode()
    assert f"Kasus #{case.pk} dieskalasi ke supervisor." in html
    assert f"membatalkan keputusan Anda atas kasus #{case.pk}" in html
    assert ">Batalkan</button>" in html


def test_the_csv_export_leaves_out_a_withdrawn_decision(moderator):
    kept = case_decide(
        case_id=CaseFactory().pk,
        version=1,
        user=moderator,
        data=DecisionInput(outcome="dismiss", rationale="Satire account."),
    )
    withdrawn = propose(moderator)
    decision_withdraw(case_id=withdrawn.case_id, decision_id=withdrawn.pk, user=moderator)
    for filters in ({}, {"category": "prostitution"}):  # unfiltered, and through the filter
        out = io.BytesIO()
        copy_csv(filters=filters, include_contacts=False, out=out, progress=lambda n: None)
        ids = [line.split(",")[0] for line in out.getvalue().decode().splitlines()[1:]]
        assert str(withdrawn.pk) not in ids
    out = io.BytesIO()
    copy_csv(filters={}, include_contacts=False, out=out, progress=lambda n: None)
    assert [line.split(",")[0] for line in out.getvalue().decode().splitlines()[1:]] == [
        str(kept.pk)
    ]
