"""The database refuses what must never happen, whatever the code above it does."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from moderation.models import Approval, Case
from reports.models import Report
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    ReportFactory,
    SourceOrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_it_refuses_a_second_open_case_for_an_account():
    case = CaseFactory()
    with pytest.raises(IntegrityError, match="case_one_open_per_account"), transaction.atomic():
        CaseFactory(account=case.account, status=Case.Status.IN_REVIEW)


def test_it_allows_a_new_case_once_the_old_one_is_closed():
    case = CaseFactory(status=Case.Status.DISMISSED)
    newer = CaseFactory(account=case.account, previous_case=case)
    assert newer.status == Case.Status.OPEN


def test_it_refuses_the_same_identifier_twice_on_one_platform():
    account = ChatAccountFactory()
    with (
        pytest.raises(IntegrityError, match="chataccount_unique_per_platform"),
        transaction.atomic(),
    ):
        ChatAccountFactory(platform=account.platform, identifier=account.identifier)
    ChatAccountFactory(identifier=account.identifier)  # another platform: fine


def test_it_refuses_an_approval_by_the_decisions_author():
    decision = DecisionFactory()
    with pytest.raises(IntegrityError, match="approval_four_eyes"), transaction.atomic():
        Approval.objects.create(
            decision=decision,
            decision_author=decision.moderator,
            supervisor=decision.moderator,
            verdict="approved",
        )


def test_it_refuses_an_approval_that_misnames_the_author():
    """Filling decision_author with someone else must not get round the four-eyes check."""
    decision = DecisionFactory()
    stranger = UserFactory()
    with (
        pytest.raises(IntegrityError, match="approval_author_is_decision_moderator"),
        transaction.atomic(),
    ):
        Approval.objects.create(
            decision=decision,
            decision_author=stranger,
            supervisor=decision.moderator,
            verdict="approved",
        )


def test_it_accepts_an_approval_by_another_person():
    decision = DecisionFactory()
    approval = Approval.objects.create(
        decision=decision,
        decision_author=decision.moderator,
        supervisor=UserFactory(),
        verdict="approved",
    )
    assert approval.pk


def test_it_refuses_a_second_decision_on_the_same_case_version():
    decision = DecisionFactory()
    with pytest.raises(IntegrityError, match="decision_once_per_version"), transaction.atomic():
        DecisionFactory(case=decision.case, case_version=decision.case_version)


def test_it_refuses_a_takedown_proposal_without_legal_basis():
    with pytest.raises(IntegrityError, match="decision_takedown_has_basis"), transaction.atomic():
        DecisionFactory(legal_basis=None)


def test_it_refuses_an_external_reference_twice_for_one_organisation():
    report = ReportFactory(external_reference="KOMINFO-1")
    with (
        pytest.raises(IntegrityError, match="report_external_reference_unique_per_org"),
        transaction.atomic(),
    ):
        ReportFactory(organisation=report.organisation, external_reference="KOMINFO-1")
    other = ReportFactory(organisation=SourceOrganisationFactory(), external_reference="KOMINFO-1")
    assert other.pk


def test_it_refuses_a_public_report_with_an_organisation():
    with (
        pytest.raises(IntegrityError, match="report_public_has_no_organisation"),
        transaction.atomic(),
    ):
        ReportFactory(source_kind="public")
    public = ReportFactory(source_kind="public", organisation=None, external_reference=None)
    assert Report.objects.filter(pk=public.pk).exists()


def test_it_refuses_a_claim_without_expiry():
    with pytest.raises(IntegrityError, match="case_claim_has_expiry"), transaction.atomic():
        CaseFactory(claimed_by=UserFactory())
