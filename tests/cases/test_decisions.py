"""Decisions: who decides what, validation, optimistic versions, the race of two moderators,
bulk dismissal and notes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from config.roles import Role
from moderation.access import can_supervise
from moderation.cases.services import (
    CaseActionError,
    CaseChanged,
    DecisionInput,
    case_claim_next,
    case_decide,
    cases_dismiss_bulk,
)
from moderation.models import AuditEvent, Case, Decision
from tests.support.factories import CaseFactory, LegalBasisFactory, UserFactory

pytestmark = pytest.mark.django_db


def takedown(basis, **overrides) -> dict:
    form = {
        "outcome": "propose_takedown",
        "category": "prostitution",
        "legal_basis": basis.pk,
        "urgency": "normal",
        "rationale": "Price list for paid sex in the profile.",
    }
    form.update(overrides)
    return form


def test_it_records_a_dismissal_with_its_audit_event(moderator):
    case = CaseFactory()
    claimed = case_claim_next(moderator=moderator)
    decision = case_decide(
        case_id=case.pk,
        version=claimed.version,
        user=moderator,
        data=DecisionInput(outcome="dismiss", rationale="Satire account, no offer."),
    )
    case.refresh_from_db()
    assert case.status == "dismissed" and case.claimed_by is None and case.closed_at
    assert decision.case_version == claimed.version and case.version == claimed.version + 1
    event = AuditEvent.objects.get(action="decision.dismiss")
    assert event.data["before"]["status"] == "in_review"
    assert event.data["after"]["status"] == "dismissed"
    assert event.data["rationale"] == "Satire account, no offer."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "dismiss", "rationale": "  "}, "reason"),
        ({"outcome": "escalate", "rationale": ""}, "escalate"),
        ({"outcome": "propose_takedown", "rationale": "x", "category": "prostitution"}, "legal"),
        ({"outcome": "propose_takedown", "rationale": "x", "category": "nope"}, "category"),
    ],
)
def test_it_refuses_an_incomplete_decision_and_changes_nothing(moderator, data, message):
    case = CaseFactory()
    with pytest.raises(CaseActionError, match=message):
        case_decide(case_id=case.pk, version=1, user=moderator, data=DecisionInput(**data))
    case.refresh_from_db()
    assert case.status == "open" and case.version == 1
    assert not Decision.objects.exists() and not AuditEvent.objects.exists()


def test_it_refuses_an_inactive_legal_basis(moderator):
    case = CaseFactory()
    basis = LegalBasisFactory(code="old", title="Old law", active=False)
    with pytest.raises(CaseActionError, match="legal basis"):
        case_decide(
            case_id=case.pk,
            version=1,
            user=moderator,
            data=DecisionInput(
                outcome="propose_takedown", rationale="x", category="fraud", legal_basis_id=basis.pk
            ),
        )


def test_it_tells_the_second_of_two_moderators_the_case_changed(client_for, moderator, moderator2):
    """Both load the open case at version 1; the first decision wins, the second is told."""
    basis = LegalBasisFactory()
    case = CaseFactory()
    first = client_for(moderator).post(f"/cases/{case.pk}/decide/", takedown(basis, version=1))
    second = client_for(moderator2).post(
        f"/cases/{case.pk}/decide/",
        {"outcome": "dismiss", "version": 1, "rationale": "Nothing here."},
        follow=True,
    )
    assert first.status_code == 302
    assert second.status_code == 200
    assert "This case changed since you opened it" in second.content.decode()
    assert Decision.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.status == "proposed"


def test_it_lets_exactly_one_of_two_racing_decisions_win(transactional_db):
    basis = LegalBasisFactory()
    case = CaseFactory()
    moderators = [UserFactory(roles=[Role.MODERATOR]) for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(user, data):
        try:
            barrier.wait()
            case_decide(case_id=case.pk, version=1, user=user, data=data)
            outcomes.append("won")
        except CaseChanged:
            outcomes.append("changed")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide,
            args=(moderators[0], DecisionInput(outcome="dismiss", rationale="No offer.")),
        ),
        threading.Thread(
            target=decide,
            args=(
                moderators[1],
                DecisionInput(
                    outcome="propose_takedown",
                    rationale="Offer.",
                    category="prostitution",
                    legal_basis_id=basis.pk,
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["changed", "won"]
    assert Decision.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(action__startswith="decision.").count() == 1


def test_it_refuses_a_decision_on_a_case_held_by_someone_else(moderator, moderator2):
    case = CaseFactory()
    claimed = case_claim_next(moderator=moderator)
    with pytest.raises(CaseActionError, match="moderator holds this case"):
        case_decide(
            case_id=case.pk,
            version=claimed.version,
            user=moderator2,
            data=DecisionInput(outcome="dismiss", rationale="x"),
        )


def test_it_lands_the_moderator_on_the_next_case_claimed_when_they_choose_it(client_for, moderator):
    basis = LegalBasisFactory()
    first, second = CaseFactory(priority=90), CaseFactory(priority=10)
    client = client_for(moderator)
    taken = client.post("/queue/next/")
    assert taken["Location"] == f"/cases/{first.pk}/"
    response = client.post(
        f"/cases/{first.pk}/decide/", {**takedown(basis, version=2), "then": "next"}
    )
    assert response["Location"] == f"/cases/{second.pk}/"
    second.refresh_from_db()
    assert second.status == "in_review" and second.claimed_by == moderator
    last = client.post(
        f"/cases/{second.pk}/decide/",
        {
            "outcome": "escalate",
            "version": 2,
            "rationale": "Looks like a minor: supervisor.",
            "then": "next",
        },
    )
    assert last["Location"] == "/queue/"  # nothing left to claim
    second.refresh_from_db()
    assert second.status == "escalated"


def test_it_never_answers_a_broken_form_with_a_500(client_for, moderator):
    case = CaseFactory()
    client = client_for(moderator)
    for form in [{}, {"outcome": "nuke", "version": "x"}, {"outcome": "dismiss", "version": 1}]:
        response = client.post(f"/cases/{case.pk}/decide/", form, follow=True)
        assert response.status_code == 200
    assert (
        client.post(
            "/cases/999999/decide/", {"outcome": "dismiss", "version": 1, "rationale": "x"}
        ).status_code
        == 302
    )
    assert client.get("/cases/999999/").status_code == 404
    case.refresh_from_db()
    assert case.status == "open"


def test_it_lets_only_a_supervisor_decide_an_escalated_case(client_for, moderator, supervisor):
    basis = LegalBasisFactory()
    case = CaseFactory(status="escalated", version=3)
    with pytest.raises(CaseActionError, match="supervisor"):
        case_decide(
            case_id=case.pk,
            version=3,
            user=moderator,
            data=DecisionInput(outcome="dismiss", rationale="x"),
        )
    listing = client_for(supervisor).get("/queue/escalated/")
    assert listing.status_code == 200 and f"#{case.pk}" in listing.content.decode()
    client_for(supervisor).post(f"/cases/{case.pk}/decide/", takedown(basis, version=3))
    case.refresh_from_db()
    assert case.status == "proposed"
    assert Decision.objects.get(case=case).moderator == supervisor


def test_it_dismisses_a_selection_in_one_batch(client_for, supervisor):
    cases = [CaseFactory(status="escalated") for _ in range(3)]
    stale = CaseFactory(status="escalated", version=5)
    selected = [f"{c.pk}:{c.version}" for c in cases] + [f"{stale.pk}:4"]
    response = client_for(supervisor).post(
        "/queue/bulk-dismiss/", {"selected": selected, "reason": "Spam wave"}, follow=True
    )
    assert response.status_code == 200
    assert f"#{stale.pk}" in response.content.decode()
    decisions = Decision.objects.filter(case__in=cases)
    assert decisions.count() == 3
    assert len({d.batch_id for d in decisions}) == 1 and decisions[0].batch_id is not None
    assert AuditEvent.objects.filter(action="decision.dismiss").count() == 3
    stale.refresh_from_db()
    assert stale.status == "escalated"


def test_it_refuses_a_bulk_dismissal_without_a_reason(supervisor):
    case = CaseFactory()
    with pytest.raises(CaseActionError):
        cases_dismiss_bulk(case_versions={case.pk: 1}, supervisor=supervisor, reason=" ")
    assert Case.objects.get(pk=case.pk).status == "open"


def test_it_adds_notes_with_an_audit_event(client_for, moderator, auditor):
    case = CaseFactory()
    client_for(moderator).post(f"/cases/{case.pk}/notes/", {"body": "Same photos as #12."})
    page = client_for(auditor).get(f"/cases/{case.pk}/").content.decode()
    assert "Same photos as #12." in page and "Note added" in page  # the history's label
    assert AuditEvent.objects.filter(action="case.note_added").count() == 1


def test_a_moderator_proposes_a_takedown_through_the_page_but_holds_no_supervisor_power(
    client_for, moderator
):
    basis = LegalBasisFactory()
    case = CaseFactory()
    response = client_for(moderator).post(
        f"/cases/{case.pk}/decide/",
        takedown(basis, version=1, rationale="Offer with a price list."),
    )
    assert response.status_code == 302
    assert Decision.objects.get(case=case).outcome == "propose_takedown"
    # Approving is a supervisor's (issue 5); a moderator holds no supervisor power anywhere.
    assert not can_supervise(moderator)


def test_an_auditor_reads_a_case_without_decision_controls_and_cannot_decide(client_for, auditor):
    case = CaseFactory()
    client = client_for(auditor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "decide-dismiss" not in page and "next-case-form" not in page
    client.post(f"/cases/{case.pk}/decide/", {"outcome": "dismiss", "version": 1, "rationale": "x"})
    assert not Decision.objects.exists()
