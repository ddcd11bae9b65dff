"""Who may decide a case is one rule (moderation/access.py): the case page offers the decision
exactly when the service would record it, for every role and every state of a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.roles import Role
from moderation.access import may_decide
from moderation.cases.services import CaseActionError, DecisionInput, case_decide
from moderation.models import Case, Decision
from tests.support.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

STATES = {
    "open": {"status": Case.Status.OPEN},
    "held by the viewer": {"status": Case.Status.IN_REVIEW, "holder": "viewer"},
    "held by someone else": {"status": Case.Status.IN_REVIEW, "holder": "other"},
    "escalated": {"status": Case.Status.ESCALATED},
    "proposed": {"status": Case.Status.PROPOSED},
    "dismissed": {"status": Case.Status.DISMISSED},
}
ROLES = {"moderator": Role.MODERATOR, "supervisor": Role.SUPERVISOR, "auditor": Role.AUDITOR}


def case_in(state: dict, *, viewer, other) -> Case:
    holder = {"viewer": viewer, "other": other}.get(state.get("holder"))
    return CaseFactory(
        status=state["status"],
        claimed_by=holder,
        claim_expires_at=timezone.now() + timedelta(minutes=10) if holder else None,
    )


def service_accepts(case: Case, user) -> bool:
    try:
        case_decide(
            case_id=case.pk,
            version=case.version,
            user=user,
            data=DecisionInput(outcome="dismiss", rationale="Checked: no offer in the profile."),
        )
    except CaseActionError:
        return False
    return True


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_the_page_offers_a_decision_exactly_when_the_service_records_one(client_for, role, state):
    viewer = UserFactory(username=f"viewer-{role}", roles=[ROLES[role]])
    other = UserFactory(username="other-moderator", roles=[Role.MODERATOR])
    case = case_in(STATES[state], viewer=viewer, other=other)
    page = client_for(viewer).get(f"/cases/{case.pk}/")
    offered = page.context["can_decide"]
    assert offered == may_decide(viewer, case)
    assert service_accepts(case, viewer) == offered
    assert Decision.objects.filter(case=case).exists() == offered


def test_the_rule_reads_as_the_design_says():
    moderator = UserFactory(roles=[Role.MODERATOR])
    supervisor = UserFactory(roles=[Role.SUPERVISOR])
    other = UserFactory(roles=[Role.MODERATOR])

    def case(state, viewer):
        return case_in(STATES[state], viewer=viewer, other=other)

    assert may_decide(moderator, case("open", moderator))
    assert may_decide(moderator, case("held by the viewer", moderator))
    assert not may_decide(moderator, case("held by someone else", moderator))
    assert not may_decide(moderator, case("escalated", moderator))
    assert may_decide(supervisor, case("escalated", supervisor))
    assert not may_decide(supervisor, case("held by someone else", supervisor))
    assert not may_decide(supervisor, case("proposed", supervisor))
