"""Restricted queues (issue 16): child sexual abuse material and terrorism are reviewed only by
people in the Specialist role. Everyone else sees that such cases exist — in the queue and in
its counts — and never their text, evidence or the account's display name; they cannot claim,
decide, approve or be handed them. Who gets which answer at which URL is the role matrix's
(tests/security/test_role_matrix.py); here, what the pages and services do."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import translation

from moderation.cases.selectors import QUEUE_COUNTS_CACHE_KEY
from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    case_claim_next,
    case_claim_open,
    case_claim_reassign,
    case_decide,
    cases_refresh,
)
from moderation.models import Case
from moderation.takedowns import services as takedowns
from moderation.takedowns.services import ApprovalRefused
from tests.support.factories import (
    ChatAccountFactory,
    PlatformFactory,
    ReportFactory,
)
from tests.support.takedowns import proposal

pytestmark = pytest.mark.django_db

SECRET_TEXT = "grooming-chat-transcript-7731"


@pytest.fixture
def csam_case(db):
    account = ChatAccountFactory(display_name="Hidden Name 55")
    report = ReportFactory(
        case__account=account,
        case__category="child_sexual_abuse",
        category="child_sexual_abuse",
        description=SECRET_TEXT,
    )
    return report.case


def test_a_case_becomes_restricted_when_a_restricted_report_joins_it():
    report = ReportFactory(category="prostitution", case__category="prostitution")
    ReportFactory(case=report.case, category="child_sexual_abuse")
    cases_refresh(case_ids=[report.case_id])
    assert Case.objects.get(pk=report.case_id).category == "child_sexual_abuse"


def test_a_non_specialist_gets_a_translated_403_on_the_case_page(client_for, moderator, csam_case):
    client = client_for(moderator)
    client.cookies["django_language"] = "id"
    response = client.get(f"/cases/{csam_case.pk}/")
    assert response.status_code == 403
    body = response.content.decode()
    assert SECRET_TEXT not in body
    with translation.override("id"):
        from moderation.access import RESTRICTED_MESSAGE

        assert str(RESTRICTED_MESSAGE) in body
        assert str(RESTRICTED_MESSAGE) != (
            "This case is in a restricted category (child sexual abuse material or terrorism): "
            "only people in the Specialist role may open it or its evidence."
        )


def test_a_specialist_opens_the_case_page(client_for, specialist, csam_case):
    response = client_for(specialist).get(f"/cases/{csam_case.pk}/")
    assert response.status_code == 200
    assert SECRET_TEXT in response.content.decode()


def test_the_queue_row_hides_text_name_and_evidence_from_a_non_specialist_but_shows_the_case(
    client_for, moderator, csam_case
):
    body = client_for(moderator).get("/queue/").content.decode()
    assert f'href="/cases/{csam_case.pk}/"' in body
    assert "Restricted" in body and "specialists only" in body
    assert SECRET_TEXT not in body
    assert "Hidden Name 55" not in body


def test_the_queue_row_shows_the_text_to_a_specialist(client_for, specialist, csam_case):
    body = client_for(specialist).get("/queue/").content.decode()
    assert SECRET_TEXT in body and "Hidden Name 55" in body


def test_the_queue_counts_still_count_restricted_cases_for_a_non_specialist(
    client_for, moderator, csam_case
):
    cache.delete(QUEUE_COUNTS_CACHE_KEY)  # another test's counts, cached for 20 s
    body = client_for(moderator).get("/queue/counts/").content.decode()
    assert "Child sexual abuse material" in body
    # the category facet lists the case: its count next to the label
    start = body.index("Child sexual abuse material")
    assert "1" in body[start : start + 200]


def test_a_text_search_does_not_find_a_restricted_case_for_a_non_specialist(
    client_for, moderator, specialist, csam_case
):
    hidden = client_for(moderator).get("/queue/", {"q": SECRET_TEXT}).content.decode()
    found = client_for(specialist).get("/queue/", {"q": SECRET_TEXT}).content.decode()
    assert f'href="/cases/{csam_case.pk}/"' not in hidden
    assert f'href="/cases/{csam_case.pk}/"' in found


def test_next_case_skips_restricted_cases_for_a_non_specialist(moderator, specialist, csam_case):
    ReportFactory(case__priority=1.0)
    Case.objects.filter(pk=csam_case.pk).update(priority=99.0)
    claimed = case_claim_next(moderator=moderator)
    assert claimed is not None and claimed.pk != csam_case.pk
    assert case_claim_next(moderator=specialist).pk == csam_case.pk


def test_claiming_or_deciding_a_restricted_case_is_refused_for_a_non_specialist(
    moderator, csam_case
):
    with pytest.raises(CaseActionError, match="Specialist"):
        case_claim_open(case_id=csam_case.pk, moderator=moderator, version=csam_case.version)
    with pytest.raises(CaseActionError):
        case_decide(
            case_id=csam_case.pk,
            version=csam_case.version,
            user=moderator,
            data=DecisionInput(outcome="dismiss", rationale="Not what it seems."),
        )
    csam_case.refresh_from_db()
    assert csam_case.status == "open" and not csam_case.decisions.exists()


def test_a_restricted_case_cannot_be_handed_to_a_non_specialist(
    moderator, specialist_supervisor, csam_case
):
    with pytest.raises(CaseActionError, match="not in the Specialist role"):
        case_claim_reassign(
            case_id=csam_case.pk, supervisor=specialist_supervisor, to_user=moderator
        )
    assert Case.objects.get(pk=csam_case.pk).claimed_by_id is None


def test_only_a_specialist_supervisor_approves_a_restricted_takedown(
    moderator, supervisor, specialist_supervisor
):
    decision = proposal(
        moderator=moderator, platform=PlatformFactory(slug="michat"), category="terrorism"
    )
    with pytest.raises(ApprovalRefused, match="Specialist"):
        takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=specialist_supervisor)
    assert request.pk


def test_the_approvals_page_hides_a_restricted_proposals_reports_from_a_non_specialist(
    moderator, supervisor, client_for
):
    decision = proposal(
        moderator=moderator, platform=PlatformFactory(slug="michat"), category="terrorism"
    )
    ReportFactory(case=decision.case, category="terrorism", description=SECRET_TEXT)
    body = client_for(supervisor).get("/approvals/").content.decode()
    assert f"proposal-{decision.pk}" in body
    assert SECRET_TEXT not in body
    assert f"/approvals/{decision.pk}/approve/" not in body


def test_the_audit_case_page_hides_the_report_text_from_a_non_specialist_auditor(
    auditor, client_for, csam_case
):
    body = client_for(auditor).get(f"/audit/cases/{csam_case.pk}/").content.decode()
    assert SECRET_TEXT not in body and "specialists only" in body
