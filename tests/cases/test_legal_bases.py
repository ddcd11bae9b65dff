"""Legal bases cover categories (issue 16): the decision form suggests the ones that cover
the case's category, the decision and approval services refuse one that does not, and the
admin's change of what a basis covers is audited."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    case_claim_next,
    case_decide,
)
from moderation.models import AuditEvent, Case, Decision, LegalBasis, TakedownRequest
from moderation.takedowns import services as takedowns
from moderation.takedowns.services import ApprovalRefused
from tests.support.factories import CaseFactory, LegalBasisFactory, PlatformFactory
from tests.support.takedowns import proposal

pytestmark = pytest.mark.django_db


def _platform():
    return PlatformFactory(slug="michat")


def decency_and_terrorism() -> tuple[LegalBasis, LegalBasis]:
    decency = LegalBasisFactory()  # UU ITE Art. 27(1): prostitution and pornography
    terrorism = LegalBasisFactory(
        code="uu-5-2018", title="UU 5/2018 Terorisme", categories=["terrorism"]
    )
    return decency, terrorism


def test_it_refuses_a_takedown_under_a_basis_that_does_not_cover_the_category(specialist):
    decency, _terrorism = decency_and_terrorism()
    case = CaseFactory(category="terrorism")
    claimed = case_claim_next(moderator=specialist)
    with pytest.raises(CaseActionError, match="does not cover the category “Terrorism”"):
        case_decide(
            case_id=case.pk,
            version=claimed.version,
            user=specialist,
            data=DecisionInput(
                outcome="propose_takedown",
                rationale="Recruitment posts for an armed group.",
                category="terrorism",
                legal_basis_id=decency.pk,
            ),
        )
    case.refresh_from_db()
    assert case.status == "in_review" and case.version == claimed.version
    assert not Decision.objects.exists()


def test_it_records_a_takedown_under_a_basis_that_covers_the_category(specialist):
    _decency, terrorism = decency_and_terrorism()
    case = CaseFactory(category="terrorism")
    claimed = case_claim_next(moderator=specialist)
    decision = case_decide(
        case_id=case.pk,
        version=claimed.version,
        user=specialist,
        data=DecisionInput(
            outcome="propose_takedown",
            rationale="Recruitment posts for an armed group.",
            category="terrorism",
            legal_basis_id=terrorism.pk,
        ),
    )
    assert decision.legal_basis == terrorism
    assert Case.objects.get(pk=case.pk).status == "proposed"


def test_the_decide_view_shows_the_refusal_to_the_moderator(specialist, client_for):
    decency, _terrorism = decency_and_terrorism()
    case = CaseFactory(category="terrorism")
    client = client_for(specialist)
    client.post("/queue/next/")
    response = client.post(
        f"/cases/{case.pk}/decide/",
        {
            "outcome": "propose_takedown",
            "version": 2,
            "category": "terrorism",
            "legal_basis": decency.pk,
            "urgency": "urgent",
            "rationale": "Recruitment posts.",
        },
        follow=True,
    )
    assert "UU ITE Pasal 27 ayat (1) does not cover the category" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "in_review"


def test_the_decision_form_suggests_the_bases_that_cover_the_cases_category(specialist, client_for):
    decency_and_terrorism()
    case = CaseFactory(category="terrorism")
    client = client_for(specialist)
    client.post("/queue/next/")
    html = client.get(f"/cases/{case.pk}/").content.decode()
    groups = dict(re.findall(r'data-basis-group="(\w+)">(.*?)</optgroup>', html, flags=re.DOTALL))
    assert re.findall(r">([^<]+)</option>", groups["suggested"]) == ["UU 5/2018 Terorisme"]
    assert re.findall(r">([^<]+)</option>", groups["other"]) == ["UU ITE Pasal 27 ayat (1)"]
    # Suggested first: it comes before the other group in the list.
    assert html.index('data-basis-group="suggested"') < html.index('data-basis-group="other"')


def test_the_approval_refuses_a_basis_that_no_longer_covers_the_category(moderator, supervisor):
    decision = proposal(moderator=moderator, platform=_platform(), category="prostitution")
    basis = decision.legal_basis
    # Between the proposal and the approval an administrator narrows what the basis covers.
    basis.categories = ["pornography"]
    basis.save(update_fields=["categories"])
    with pytest.raises(ApprovalRefused, match="does not cover the category “Prostitution”"):
        takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    assert not TakedownRequest.objects.exists()
    assert Case.objects.get(pk=decision.case_id).status == "proposed"


def test_the_approval_accepts_a_basis_that_covers_the_category(moderator, supervisor):
    decision = proposal(moderator=moderator, platform=_platform(), category="prostitution")
    request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    assert request.legal_basis == "UU ITE Pasal 27 ayat (1)"


def test_a_change_of_categories_in_the_admin_is_audited(administrator, client_for):
    basis = LegalBasisFactory()
    client = client_for(administrator)
    response = client.post(
        f"/admin/moderation/legalbasis/{basis.pk}/change/",
        {
            "code": basis.code,
            "title": basis.title,
            "active": "on",
            "categories": ["prostitution"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    basis.refresh_from_db()
    assert basis.categories == ["prostitution"]
    event = AuditEvent.objects.get(action="legal_basis.changed", subject_id=str(basis.pk))
    assert event.data["changed"] == ["categories"]
    assert event.data["before"]["categories"] == ["prostitution", "pornography"]
    assert event.data["after"]["categories"] == ["prostitution"]


def test_the_migration_maps_the_known_bases_and_leaves_unknown_ones_covering_nothing():
    migration = importlib.import_module(
        "moderation.migrations.0014_legal_basis_categories_decision_undo"
    )
    decency = LegalBasis.objects.create(code="uu-ite-27-1", title="UU ITE Pasal 27 ayat (1)")
    terror = LegalBasis.objects.create(code="uu-5-2018", title="UU 5/2018 Terorisme")
    unknown = LegalBasis.objects.create(code="perda-jaksel", title="Perda Jakarta Selatan")
    migration.map_known_bases(apps, None)
    for basis in (decency, terror, unknown):
        basis.refresh_from_db()
    assert decency.categories == ["prostitution", "pornography"]
    assert terror.categories == ["terrorism"]
    assert unknown.categories == []
