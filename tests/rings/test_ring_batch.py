"""Acting on a ring (issue 17): takedown proposals for several of a ring's cases in one step —
one decision per case, one batch id, each audited and each still approved by a second
person; a case that cannot be proposed is refused on its own, with the reason; Approvals
shows the batch under one heading."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from moderation.cases.services import CaseActionError, decision_withdraw
from moderation.models import Approval, AuditEvent, Case, Decision, TakedownRequest
from moderation.takedowns.services import ApprovalRefused, proposal_approve, proposal_reject
from tests.support.factories import DecisionFactory, LegalBasisFactory, TakedownRequestFactory
from tests.support.ring_card import evidence_on, link, reported, ring_of

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"


@pytest.fixture
def basis():
    return LegalBasisFactory()


@pytest.fixture
def ring(moderator):
    """Bella (claimed by the moderator) and four accounts sharing her pictures or number."""
    bella = reported("bella", phones=[PHONE])
    others = [
        reported("bella2", platform="telegram"),
        reported("bella3", platform="whatsapp", phones=[PHONE]),
        reported("bella4", platform="telegram"),
        reported("bella5"),
    ]
    for other in (others[0], others[2], others[3]):
        link(evidence_on(bella), evidence_on(other))
    ring_of(bella, *others)
    Case.objects.filter(pk=bella.pk).update(
        status="in_review",
        claimed_by=moderator,
        claim_expires_at=timezone.now() + timezone.timedelta(minutes=10),
        version=2,
    )
    bella.refresh_from_db()
    return [bella, *others]


def form(basis, *cases: Case, **overrides) -> dict:
    data = {
        "selected": [f"{case.pk}:{case.version}" for case in cases],
        "category": "prostitution",
        "legal_basis": basis.pk,
        "urgency": "normal",
        "rationale": "One operator: same photos and number, price list in every profile.",
    }
    data.update(overrides)
    return data


def propose(client, case: Case, data: dict):
    return client.post(f"/cases/{case.pk}/ring/propose/", data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_batch_makes_one_decision_per_ticked_case_with_one_batch_id(
    ring, basis, client_for, moderator
):
    bella, telegram, whatsapp, *_ = ring

    response = propose(client_for(moderator), bella, form(basis, bella, telegram, whatsapp))

    decisions = list(Decision.objects.order_by("case_id"))
    assert [d.case_id for d in decisions] == [bella.pk, telegram.pk, whatsapp.pk]
    assert {d.outcome for d in decisions} == {"propose_takedown"}
    assert {d.moderator_id for d in decisions} == {moderator.pk}
    assert len({d.batch_id for d in decisions}) == 1 and decisions[0].batch_id is not None
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in ring[:3]]).values_list("status", flat=True)
    ) == {"proposed"}
    # Audited as single proposals are, each with the batch id.
    events = AuditEvent.objects.filter(action="decision.propose_takedown").order_by("subject_id")
    assert [e.data["batch_id"] for e in events] == [str(decisions[0].batch_id)] * 3
    assert [int(e.subject_id) for e in events] == sorted([bella.pk, telegram.pk, whatsapp.pk])
    assert any(f"#{bella.pk}, #{telegram.pk}, #{whatsapp.pk}" in m for m in messages_of(response))
    assert response.redirect_chain[-1][0] == f"/cases/{bella.pk}/#ring"


def test_each_proposal_of_a_batch_is_approved_on_its_own_by_a_second_person(
    ring, basis, client_for, supervisor, specialist_supervisor
):
    bella, telegram, whatsapp, *_ = ring
    Case.objects.filter(pk=bella.pk).update(claimed_by=supervisor)
    propose(client_for(supervisor), bella, form(basis, bella, telegram, whatsapp))
    first, second, third = Decision.objects.order_by("case_id")

    with pytest.raises(ApprovalRefused):  # the proposer is not the second person
        proposal_approve(decision_id=first.pk, supervisor=supervisor)
    proposal_approve(decision_id=first.pk, supervisor=specialist_supervisor)
    proposal_reject(decision_id=second.pk, supervisor=specialist_supervisor, comment="No price.")

    assert list(TakedownRequest.objects.values_list("case_id", flat=True)) == [bella.pk]
    statuses = dict(
        Case.objects.filter(pk__in=[bella.pk, telegram.pk, whatsapp.pk]).values_list("pk", "status")
    )
    assert statuses == {bella.pk: "approved", telegram.pk: "open", whatsapp.pk: "proposed"}
    assert not Approval.objects.filter(decision=third).exists()


def test_a_case_that_cannot_be_proposed_is_refused_on_its_own_with_the_reason(
    ring, basis, client_for, moderator, moderator2
):
    bella, telegram, whatsapp, held, restricted = ring
    Case.objects.filter(pk=held.pk).update(
        status="in_review",
        claimed_by=moderator2,
        claim_expires_at=timezone.now() + timezone.timedelta(minutes=10),
    )
    Case.objects.filter(pk=restricted.pk).update(category="child_sexual_abuse")
    Case.objects.filter(pk=whatsapp.pk).update(status="proposed")
    stranger = reported("stranger")
    data = form(basis, bella, telegram, whatsapp, held, restricted, stranger)

    response = propose(client_for(moderator), bella, data)

    assert set(Decision.objects.values_list("case_id", flat=True)) == {bella.pk, telegram.pk}
    said = "\n".join(messages_of(response))
    assert f"Case #{held.pk} was not proposed: moderator2 holds this case" in said
    assert f"Case #{restricted.pk} was not proposed: This case is in a restricted category" in said
    assert f"Case #{whatsapp.pk} was not proposed: This case is no longer open" in said
    assert f"Case #{stranger.pk} was not proposed: This case is not in the account's ring." in said
    assert not Decision.objects.filter(case=stranger).exists()


def test_a_changed_case_is_refused_and_the_others_go_ahead(ring, basis, client_for, moderator):
    bella, telegram, *_ = ring
    stale = form(basis, bella, telegram)
    Case.objects.filter(pk=telegram.pk).update(version=9)

    response = propose(client_for(moderator), bella, stale)

    assert list(Decision.objects.values_list("case_id", flat=True)) == [bella.pk]
    assert any(
        f"Case #{telegram.pk} was not proposed: This case changed" in m
        for m in messages_of(response)
    )


def test_an_account_already_taken_down_needs_a_reason_to_take_it_down_again(
    ring, basis, client_for, moderator
):
    bella, telegram, *_ = ring
    earlier = Case.objects.create(
        account=telegram.account, category="prostitution", status="closed"
    )
    TakedownRequestFactory(approval__decision=DecisionFactory(case=earlier), status="taken_down")
    client = client_for(moderator)

    response = propose(client, bella, form(basis, bella, telegram))
    assert not Decision.objects.filter(case=telegram).exists()
    assert Decision.objects.filter(case=bella).exists()
    assert any(
        f"Case #{telegram.pk} was not proposed: This account was already taken down" in m
        for m in messages_of(response)
    )

    telegram.refresh_from_db()
    propose(client, bella, form(basis, telegram, repeat_reason="Came back with the same photos."))
    decision = Decision.objects.get(case=telegram)
    assert "Came back with the same photos." in decision.rationale


def test_a_legal_basis_that_does_not_cover_the_category_refuses_the_whole_batch(
    ring, basis, client_for, moderator
):
    bella, telegram, *_ = ring
    response = propose(
        client_for(moderator), bella, form(basis, bella, telegram, category="gambling")
    )
    assert not Decision.objects.exists()
    assert any("does not cover the category" in m for m in messages_of(response))


def test_each_proposal_of_a_batch_is_undone_on_its_own_by_its_author(
    ring, basis, client_for, moderator, moderator2
):
    bella, telegram, *_ = ring
    propose(client_for(moderator), bella, form(basis, bella, telegram))

    with pytest.raises(CaseActionError, match="Only the person who made a decision"):
        decision_withdraw(
            case_id=telegram.pk, decision_id=Decision.objects.get(case=telegram).pk, user=moderator2
        )
    decision_withdraw(
        case_id=telegram.pk, decision_id=Decision.objects.get(case=telegram).pk, user=moderator
    )

    assert Case.objects.get(pk=telegram.pk).status == "open"
    assert Case.objects.get(pk=bella.pk).status == "proposed"


@pytest.mark.parametrize("who", ["auditor", "administrator"])
def test_people_who_do_not_review_cannot_propose_a_batch(ring, basis, client_for, request, who):
    bella, telegram, *_ = ring
    response = client_for(request.getfixturevalue(who)).post(
        f"/cases/{bella.pk}/ring/propose/", form(basis, telegram)
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_the_card_offers_checkboxes_only_on_cases_the_moderator_may_decide(
    ring, client_for, moderator, moderator2, auditor
):
    bella, telegram, whatsapp, held, _ = ring
    Case.objects.filter(pk=held.pk).update(
        status="in_review",
        claimed_by=moderator2,
        claim_expires_at=timezone.now() + timezone.timedelta(minutes=10),
    )
    Case.objects.filter(pk=whatsapp.pk).update(status="proposed")
    html = client_for(moderator).get(f"/cases/{bella.pk}/").content.decode()
    ticks = re.findall(r'name="selected" value="(\d+):\d+"', html)
    assert sorted(map(int, ticks)) == sorted([bella.pk, telegram.pk, ring[4].pk])
    assert f'action="/cases/{bella.pk}/ring/propose/"' in html

    html = client_for(auditor).get(f"/cases/{bella.pk}/").content.decode()
    assert "ring/propose" not in html and 'name="selected"' not in html


def test_approvals_shows_a_batch_under_one_heading_each_decided_on_its_own(
    ring, basis, client_for, moderator, supervisor
):
    bella, telegram, whatsapp, *_ = ring
    alone = DecisionFactory(case=reported("alone", status="proposed"))
    propose(client_for(moderator), bella, form(basis, bella, telegram, whatsapp))
    batch = Decision.objects.exclude(pk=alone.pk).first().batch_id

    html = client_for(supervisor).get("/approvals/").content.decode()

    section = re.search(
        rf'<section class="proposal-batch" id="batch-{batch}".*?</section>', html, re.S
    )
    assert section, "no batch section"
    assert "Ring batch · 3 takedown proposals" in section.group(0)
    assert "Proposed by moderator in one step" in section.group(0)
    inside = re.findall(r'data-decision="(\d+)"', section.group(0))
    assert sorted(map(int, inside)) == sorted(
        Decision.objects.filter(batch_id=batch).values_list("pk", flat=True)
    )
    # Each with its own approve and reject forms; the single proposal outside the batch.
    assert section.group(0).count("/approve/") == 3 and section.group(0).count("/reject/") == 3
    assert f'data-decision="{alone.pk}"' not in section.group(0)
    assert f'data-decision="{alone.pk}"' in html
