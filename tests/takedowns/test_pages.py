"""The approvals page and the takedown requests pages. Who may open them is the role
matrix's (tests/security/test_role_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from moderation.keyset import cursor_encode
from moderation.models import Approval, AuditEvent, CaseNote, TakedownRequest
from moderation.takedowns import services as takedowns
from moderation.takedowns.selectors import TakedownFilters, takedown_compliance, takedown_page
from reports.models import Evidence
from tests.support.factories import ReportFactory, UserFactory
from tests.support.takedowns import platform_for, proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform():
    return platform_for(None)


@pytest.fixture
def supervisor2():
    from config.roles import Role

    return UserFactory(username="supervisor2", roles=[Role.SUPERVISOR])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- what the pages leave to supervisors --------------------------------------------------


@pytest.mark.parametrize("persona", ["moderator", "auditor", "administrator"])
def test_a_role_that_does_not_supervise_approves_cancels_and_retries_nothing(
    request, client_for, persona, platform, moderator2, supervisor
):
    """The role matrix (tests/security/) checks that these roles are refused; this checks that
    a refused approval, cancellation or retry changes nothing."""
    pending, failed = (
        takedowns.proposal_approve(
            decision_id=proposal(moderator=moderator2, platform=platform).pk, supervisor=supervisor
        )
        for _ in range(2)
    )
    TakedownRequest.objects.filter(pk=failed.pk).update(status="failed")
    waiting = proposal(moderator=moderator2, platform=platform)
    events = AuditEvent.objects.count()
    client = client_for(request.getfixturevalue(persona))
    client.post(f"/approvals/{waiting.pk}/approve/", {"comment": "Clear case."})
    client.post(f"/approvals/{waiting.pk}/reject/", {"comment": "Not enough evidence."})
    client.post("/approvals/bulk-approve/", {"decision": [waiting.pk], "comment": "bulk"})
    client.post(f"/takedowns/{pending.pk}/cancel/", {"reason": "wrong account"})
    client.post(f"/takedowns/{failed.pk}/retry/")
    pending.refresh_from_db()
    failed.refresh_from_db()
    assert (pending.status, failed.status) == ("pending", "failed")
    assert not Approval.objects.filter(decision=waiting).exists()
    assert AuditEvent.objects.count() == events


def test_the_header_links_to_approvals_and_takedowns_for_supervisors(client_for, supervisor):
    page = client_for(supervisor).get("/approvals/").content.decode()
    assert 'href="/approvals/"' in page and 'href="/takedowns/"' in page


# --- approvals -----------------------------------------------------------------------------


def test_it_lists_proposals_urgent_first_then_oldest_with_evidence_blurred(
    client_for, platform, moderator, supervisor
):
    old = proposal(moderator=moderator, platform=platform)
    new = proposal(moderator=moderator, platform=platform)
    urgent = proposal(moderator=moderator, platform=platform, category="child_sexual_abuse")
    marked = proposal(moderator=moderator, platform=platform, urgency="urgent")
    old.created_at = timezone.now() - timedelta(hours=5)
    old.save(update_fields=["created_at"])
    report = ReportFactory(case=old.case)
    evidence = Evidence(report=report, content_type="image/png", size=3, sha256="0" * 64)
    evidence.file.save("x.png", ContentFile(b"png"), save=True)
    decided = proposal(moderator=moderator, platform=platform)
    takedowns.proposal_reject(decision_id=decided.pk, supervisor=supervisor, comment="no")

    response = client_for(supervisor).get("/approvals/")
    assert response.status_code == 200
    order = [d.pk for d in response.context["proposals"]]
    assert order == [urgent.pk, marked.pk, old.pk, new.pk]
    page = response.content.decode()
    assert f'src="/evidence/{evidence.pk}/"' in page
    assert 'class="evidence-thumb blur-strong is-blurred' in page  # the organisation's default
    assert old.rationale in page
    assert "style=" not in page


def test_a_supervisor_approves_another_persons_proposal(
    client_for, platform, moderator, supervisor
):
    decision = proposal(moderator=moderator, platform=platform)
    before = timezone.now()
    response = client_for(supervisor).post(
        f"/approvals/{decision.pk}/approve/", {"comment": "Clear case."}, follow=True
    )
    assert any("Approved" in m for m in messages_of(response))
    request = TakedownRequest.objects.get(case=decision.case)
    assert request.approval.supervisor == supervisor
    assert request.approval.comment == "Clear case."
    assert request.status == "pending" and request.urgency == "normal"
    assert timedelta(hours=24) == request.deadline - request.issued_at
    assert request.issued_at >= before
    decision.case.refresh_from_db()
    decision.case.account.refresh_from_db()
    assert decision.case.status == "approved"
    assert decision.case.account.status == "takedown_requested"
    events = {e.action: e for e in AuditEvent.objects.all()}
    assert set(events) == {"approval.approved", "takedown.issued"}
    approved = events["approval.approved"].data
    assert approved["case"]["after"] == {"status": "approved"}
    assert approved["account"]["after"] == {"status": "takedown_requested"}
    assert approved["request"] == str(request.pk)
    assert events["approval.approved"].actor_user == supervisor


def test_urgent_categories_and_the_urgent_mark_get_four_hours(
    platform, moderator, specialist_supervisor
):
    supervisor = specialist_supervisor  # CSAM and terrorism proposals: a specialist approves
    csam = proposal(moderator=moderator, platform=platform, category="child_sexual_abuse")
    terror = proposal(moderator=moderator, platform=platform, category="terrorism")
    normal = proposal(moderator=moderator, platform=platform, category="fraud")
    marked_by_moderator = proposal(moderator=moderator, platform=platform, urgency="urgent")
    for decision in (csam, terror, marked_by_moderator):
        request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
        assert request.urgency == "urgent"
        assert request.deadline - request.issued_at == timedelta(hours=4)
    request = takedowns.proposal_approve(
        decision_id=normal.pk, supervisor=supervisor, marked_urgent=True
    )
    assert request.deadline - request.issued_at == timedelta(hours=4)


def test_a_supervisor_cannot_approve_their_own_proposal(client_for, platform, supervisor):
    decision = proposal(moderator=supervisor, platform=platform)
    page = client_for(supervisor).get("/approvals/").content.decode()
    assert "This is your own proposal" in page
    assert f"/approvals/{decision.pk}/approve/" not in page
    response = client_for(supervisor).post(f"/approvals/{decision.pk}/approve/", follow=True)
    assert any("your own proposal" in m for m in messages_of(response))
    assert not Approval.objects.exists()
    assert not TakedownRequest.objects.exists()
    with pytest.raises(takedowns.ApprovalRefused, match="own proposal"):
        takedowns.proposal_reject(decision_id=decision.pk, supervisor=supervisor, comment="x")


def test_the_database_refuses_a_self_approval_even_without_the_service(
    platform, supervisor, moderator
):
    decision = proposal(moderator=supervisor, platform=platform)
    with pytest.raises(IntegrityError, match="approval_four_eyes"), transaction.atomic():
        Approval.objects.create(
            decision=decision, decision_author=supervisor, supervisor=supervisor, verdict="approved"
        )
    # Lying about the author does not help: the composite key ties it to the decision.
    lie = pytest.raises(IntegrityError, match="approval_author_is_decision_moderator")
    with lie, transaction.atomic():
        Approval.objects.create(
            decision=decision, decision_author=moderator, supervisor=supervisor, verdict="approved"
        )
    assert not Approval.objects.exists()


def test_a_moderator_cannot_approve_through_the_service(platform, moderator, moderator2):
    decision = proposal(moderator=moderator, platform=platform)
    with pytest.raises(takedowns.ApprovalRefused, match="Only supervisors"):
        takedowns.proposal_approve(decision_id=decision.pk, supervisor=moderator2)


def test_rejection_returns_the_case_to_the_queue_with_the_comment(
    client_for, platform, moderator, supervisor
):
    decision = proposal(moderator=moderator, platform=platform)
    case = decision.case
    case.claimed_by = moderator
    case.claim_expires_at = timezone.now() + timedelta(minutes=30)
    case.save(update_fields=["claimed_by", "claim_expires_at"])
    client = client_for(supervisor)
    empty = client.post(f"/approvals/{decision.pk}/reject/", {"comment": " "}, follow=True)
    assert any("Say why" in m for m in messages_of(empty))
    assert not Approval.objects.exists()
    response = client.post(
        f"/approvals/{decision.pk}/reject/", {"comment": "Not enough evidence."}, follow=True
    )
    assert any("back in the queue" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.status == "open" and case.claimed_by is None and case.claim_expires_at is None
    assert case.version == 2
    assert CaseNote.objects.get(case=case).body.endswith("Not enough evidence.")
    approval = Approval.objects.get(decision=decision)
    assert approval.verdict == "rejected"
    assert AuditEvent.objects.filter(action="approval.rejected").count() == 1
    assert not TakedownRequest.objects.exists()
    again = client.post(f"/approvals/{decision.pk}/approve/", follow=True)
    assert any("already been decided" in m for m in messages_of(again))


def test_bulk_approve_approves_the_selection_and_names_the_ones_it_cannot(
    client_for, platform, moderator, supervisor
):
    first = proposal(moderator=moderator, platform=platform)
    second = proposal(moderator=moderator, platform=platform)
    own = proposal(moderator=supervisor, platform=platform)
    untouched = proposal(moderator=moderator, platform=platform)
    response = client_for(supervisor).post(
        "/approvals/bulk-approve/",
        {"decision": [first.pk, second.pk, own.pk, "junk"], "comment": "bulk"},
        follow=True,
    )
    notes = messages_of(response)
    assert "2 proposals approved." in notes
    assert any(f"Proposal {own.pk}" in m and "own proposal" in m for m in notes)
    assert set(TakedownRequest.objects.values_list("case_id", flat=True)) == {
        first.case_id,
        second.case_id,
    }
    untouched.case.refresh_from_db()
    assert untouched.case.status == "proposed"
    nothing = client_for(supervisor).post("/approvals/bulk-approve/", {}, follow=True)
    assert "Select at least one proposal." in messages_of(nothing)


def test_an_unknown_proposal_gets_a_message_not_an_error(client_for, supervisor):
    response = client_for(supervisor).post("/approvals/999999/approve/", follow=True)
    assert response.status_code == 200
    assert any("no such takedown proposal" in m for m in messages_of(response))


# --- the takedown requests pages ---------------------------------------------------------------


def approve_n(n, *, moderator, supervisor, platform):
    return [
        takedowns.proposal_approve(
            decision_id=proposal(moderator=moderator, platform=platform).pk,
            supervisor=supervisor,
        )
        for _ in range(n)
    ]


def test_the_list_filters_and_pages_by_keyset(client_for, platform, moderator, supervisor):
    requests = approve_n(5, moderator=moderator, supervisor=supervisor, platform=platform)
    other = platform_for(None, slug="telegram")
    elsewhere = approve_n(1, moderator=moderator, supervisor=supervisor, platform=other)[0]
    TakedownRequest.objects.filter(pk=requests[0].pk).update(
        deadline=timezone.now() - timedelta(hours=1)
    )
    TakedownRequest.objects.filter(pk=requests[1].pk).update(status="failed", last_error="HTTP 503")

    seen, cursor = [], ""
    while True:
        page = takedown_page(filters=TakedownFilters(platform="michat"), cursor=cursor, limit=2)
        seen += [r.pk for r in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [r.pk for r in reversed(requests)]

    client = client_for(supervisor)
    overdue = client.get("/takedowns/", {"overdue": "on"})
    assert [r.pk for r in overdue.context["page"].rows] == [requests[0].pk]
    html = overdue.content.decode()
    assert 'class="overdue"' in html and "overdue by" in html
    failed = client.get("/takedowns/", {"status": "failed"})
    assert [r.pk for r in failed.context["page"].rows] == [requests[1].pk]
    assert "HTTP 503" in failed.content.decode()
    by_platform = client.get("/takedowns/", {"platform": "telegram"})
    assert [r.pk for r in by_platform.context["page"].rows] == [elsewhere.pk]
    bad = client.get("/takedowns/", {"status": "nonsense", "after": "garbage"})
    assert bad.status_code == 200
    assert len(bad.context["page"].rows) == 6
    cursor = cursor_encode(requests[3].issued_at, requests[3].pk)
    older = client.get("/takedowns/", {"after": cursor})
    assert [r.pk for r in older.context["page"].rows][:3] == [
        requests[2].pk,
        requests[1].pk,
        requests[0].pk,
    ]


def test_the_detail_page_shows_the_delivery_history(client_for, platform, moderator, supervisor):
    from moderation.models import DeliveryAttempt

    request = approve_n(1, moderator=moderator, supervisor=supervisor, platform=platform)[0]
    DeliveryAttempt.objects.create(
        request=request,
        number=1,
        started_at=timezone.now(),
        http_status=503,
        latency_ms=12,
        outcome="server_error",
        error="HTTP 503: busy",
    )
    page = client_for(supervisor).get(f"/takedowns/{request.pk}/").content.decode()
    assert "operator error (5xx)" in page and "HTTP 503: busy" in page and "12 ms" in page
    assert (
        client_for(supervisor).get("/takedowns/00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )


def test_supervisors_cancel_and_retry_with_audit_events(
    client_for, platform, moderator, supervisor, auditor
):
    first, second = approve_n(2, moderator=moderator, supervisor=supervisor, platform=platform)
    client = client_for(supervisor)
    refused = client.post(f"/takedowns/{first.pk}/retry/", follow=True)
    assert any("Only a failed request" in m for m in messages_of(refused))
    client.post(f"/takedowns/{first.pk}/cancel/", {"reason": "wrong account"})
    first.refresh_from_db()
    first.case.refresh_from_db()
    first.account.refresh_from_db()
    assert first.status == "cancelled"
    assert first.case.status == "closed" and first.account.status == "under_review"
    event = AuditEvent.objects.get(action="takedown.cancelled")
    assert event.data["reason"] == "wrong account" and event.actor_user == supervisor

    TakedownRequest.objects.filter(pk=second.pk).update(status="failed")
    client.post(f"/takedowns/{second.pk}/retry/")
    second.refresh_from_db()
    assert second.status == "pending" and second.next_attempt_at
    assert AuditEvent.objects.filter(action="takedown.retried").count() == 1
    TakedownRequest.objects.filter(pk=second.pk).update(status="acknowledged")
    late = client.post(f"/takedowns/{second.pk}/cancel/", follow=True)
    assert any("not acknowledged" in m for m in messages_of(late))
    page = client_for(auditor).get(f"/takedowns/{second.pk}/").content.decode()
    assert "Retry now" not in page and "Cancel request" not in page


def test_the_compliance_table_counts_per_platform(client_for, platform, moderator, supervisor):
    quick, late, open_overdue, cancelled = approve_n(
        4, moderator=moderator, supervisor=supervisor, platform=platform
    )
    now = timezone.now()
    TakedownRequest.objects.filter(pk=quick.pk).update(
        status="taken_down",
        acknowledged_at=now,
        resolved_at=quick.issued_at + timedelta(minutes=30),
    )
    TakedownRequest.objects.filter(pk=late.pk).update(
        status="taken_down",
        acknowledged_at=now,
        issued_at=now - timedelta(hours=30),
        deadline=now - timedelta(hours=6),
        resolved_at=now - timedelta(hours=1),
    )
    TakedownRequest.objects.filter(pk=open_overdue.pk).update(
        status="acknowledged", acknowledged_at=now, deadline=now - timedelta(minutes=1)
    )
    TakedownRequest.objects.filter(pk=cancelled.pk).update(status="cancelled")
    platform_for(None, slug="telegram")
    rows = {row.slug: row for row in takedown_compliance()}
    michat = rows["michat"]
    assert (michat.requests, michat.acknowledged, michat.due, michat.in_time) == (3, 3, 3, 1)
    assert michat.share_in_time == 33.3
    assert michat.overdue == 1
    # Median of 30 minutes and 29 hours.
    assert michat.median_seconds == pytest.approx((30 * 60 + 29 * 3600) / 2, abs=2)
    assert rows["telegram"].requests == 0 and rows["telegram"].share_in_time is None
    page = client_for(supervisor).get("/takedowns/").content.decode()
    assert "33.3 %" in page and "Operator compliance" in page
