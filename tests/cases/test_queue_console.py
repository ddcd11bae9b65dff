"""The dense queue (issue 16): what a row carries, how overdue cases rank, where a moderator
goes after a decision, and the claim released when the case page is left."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from moderation.cases.selectors import QueueFilters, case_queue, review_clock
from moderation.cases.services import case_claim_leave, case_claim_next
from moderation.cases.views.rows import queue_rows
from moderation.models import AuditEvent, Case
from reports.models import Evidence
from tests.support.factories import CaseFactory, ReportFactory
from tests.support.queue import make_open_cases

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def evidence(report, *, deleted: bool = False) -> Evidence:
    return Evidence.objects.create(
        report=report,
        file=f"evidence/{report.pk}.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        deleted_at=NOW if deleted else None,
    )


def row_of(html: str, case_id: int) -> str:
    match = re.search(rf'<tr data-href="[^"]*/{case_id}/".*?</tr>', html, re.S)
    assert match, f"no row for case {case_id}"
    return match.group(0)


# --- Overdue ranking -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited_hours", "state", "level"),
    [
        (1, "ok", 0),
        (19, "due", 0),  # past three quarters of the 24 h target
        (25, "breached", 1),  # 1 h past
        (47, "breached", 1),  # 23 h past: still within one more target period
        (49, "breached", 2),  # 25 h past
        (95, "breached", 2),  # 71 h past
        (97, "breached", 3),  # 73 h past: beyond three target periods
    ],
)
def test_it_ranks_how_far_past_the_review_target_a_case_is(settings, waited_hours, state, level):
    settings.SARING_REVIEW_TARGET_HOURS = 24
    clock = review_clock(NOW - timedelta(hours=waited_hours), now=NOW)
    assert (clock.state, clock.level) == (state, level)
    assert clock.left == timedelta(hours=24 - waited_hours)


def test_it_scales_the_overdue_levels_with_the_review_target(settings):
    settings.SARING_REVIEW_TARGET_HOURS = 4
    assert review_clock(NOW - timedelta(hours=7), now=NOW).level == 1
    assert review_clock(NOW - timedelta(hours=9), now=NOW).level == 2
    assert review_clock(NOW - timedelta(hours=17), now=NOW).level == 3


# --- What a row carries --------------------------------------------------------------


def test_a_row_shows_the_latest_report_text_on_one_line_and_the_evidence_still_held(moderator):
    case = CaseFactory(source_kinds="ministry,public", opened_at=NOW - timedelta(hours=3.5))
    older = ReportFactory(case=case, description="Older text", received_at=NOW - timedelta(hours=2))
    ReportFactory(case=case, description="Open BO Jaksel\n  tarif <b>di</b> bio", received_at=NOW)
    ReportFactory(case=case, description="", received_at=NOW + timedelta(minutes=1))
    evidence(older)
    evidence(older)
    evidence(older, deleted=True)  # deleted under retention: not counted

    with translation.override("en"):
        html = queue_rows(
            case_queue(filters=QueueFilters()),
            case_path="/cases/",
            selectable=False,
            viewer=moderator,
        )
    row = row_of(html, case.pk)
    assert "<bdi>Open BO Jaksel tarif &lt;b&gt;di&lt;/b&gt; bio</bdi>" in row
    assert "Older text" not in row
    assert '<td class="num"><span title="2 pieces of evidence">2</span></td>' in row
    assert "Ministry, Public" in row and "ministry,public" not in row
    assert ">3 h</time>" in row
    assert "due in 20 h" in row  # 20.5 h left, whole hours shown


def test_a_row_cuts_a_long_report_text():
    case = CaseFactory()
    ReportFactory(case=case, description="x" * 5000)
    page = case_queue(filters=QueueFilters())
    assert page.cases[0].snippet == "x" * 160


def test_an_overdue_row_says_how_late_with_its_level(settings, moderator):
    settings.SARING_REVIEW_TARGET_HOURS = 24
    late = CaseFactory(opened_at=NOW - timedelta(days=5))
    with translation.override("en"):
        html = queue_rows(
            case_queue(filters=QueueFilters()),
            case_path="/cases/",
            selectable=False,
            viewer=moderator,
        )
    row = row_of(html, late.pk)
    assert 'class="sla-breached late-3"' in row
    assert "overdue by 4 d" in row and "due in" not in row


def test_a_row_reads_in_indonesian(moderator):
    case = CaseFactory(source_kinds="police,public", opened_at=NOW - timedelta(days=3))
    with translation.override("id"):
        html = queue_rows(
            case_queue(filters=QueueFilters()),
            case_path="/cases/",
            selectable=False,
            viewer=moderator,
        )
    row = row_of(html, case.pk)
    assert "Kepolisian, Masyarakat" in row
    assert ">3 hari</time>" in row
    assert "melewati tenggat 2 hari" in row  # 72 h waited, 48 h past the 24 h target


def test_the_queue_reads_evidence_and_snippets_without_a_query_per_row(client_for, moderator):
    client = client_for(moderator)
    make_open_cases(5, prefix="a")
    client.get("/queue/")
    with CaptureQueriesContext(connection) as few:
        client.get("/queue/")
    for case in make_open_cases(40, prefix="b"):
        evidence(ReportFactory(case=case, description=f"teks {case.pk}"))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/queue/")
    assert len(few) == len(many)
    assert response.content.count(b'<td class="snippet"') == 45


# --- After a decision ----------------------------------------------------------------


def dismiss(case: Case, **extra) -> dict:
    return {"outcome": "dismiss", "version": case.version, "rationale": "No offer.", **extra}


def test_choosing_the_next_case_claims_it_after_the_decision(client_for, moderator):
    first, second = CaseFactory(priority=90), CaseFactory(priority=10)
    client = client_for(moderator)
    client.post("/queue/next/")
    first.refresh_from_db()
    response = client.post(f"/cases/{first.pk}/decide/", dismiss(first, then="next"))
    assert response["Location"] == f"/cases/{second.pk}/"
    second.refresh_from_db()
    assert second.status == "in_review" and second.claimed_by == moderator


def test_choosing_the_queue_claims_nothing_after_the_decision(client_for, moderator):
    first, second = CaseFactory(priority=90), CaseFactory(priority=10)
    client = client_for(moderator)
    client.post("/queue/next/")
    first.refresh_from_db()
    response = client.post(f"/cases/{first.pk}/decide/", dismiss(first, then="queue"))
    assert response["Location"] == "/queue/"
    second.refresh_from_db()
    assert second.status == "open" and second.claimed_by is None


@pytest.mark.parametrize("then", [None, "", "somewhere"])
def test_without_a_valid_choice_the_moderator_goes_back_to_the_queue(client_for, moderator, then):
    case, waiting = CaseFactory(priority=90), CaseFactory(priority=10)
    client = client_for(moderator)
    client.post("/queue/next/")
    case.refresh_from_db()
    extra = {} if then is None else {"then": then}
    response = client.post(f"/cases/{case.pk}/decide/", dismiss(case, **extra))
    assert response["Location"] == "/queue/"
    waiting.refresh_from_db()
    assert waiting.status == "open"


def test_the_decision_form_offers_the_last_choice_first(client_for, moderator):
    first, second = CaseFactory(priority=90), CaseFactory(priority=10)
    client = client_for(moderator)
    page = client.get(f"/cases/{first.pk}/").content.decode()
    assert 'value="queue" checked' in page and 'value="next" checked' not in page
    client.post("/queue/next/")
    first.refresh_from_db()
    client.post(f"/cases/{first.pk}/decide/", dismiss(first, then="next"))
    page = client.get(f"/cases/{second.pk}/").content.decode()
    assert page.count('value="next" checked') == 3  # in each of the three decision forms
    assert 'value="queue" checked' not in page


# --- Leaving the case page -----------------------------------------------------------


def test_leaving_the_case_page_returns_ones_own_claim_to_the_queue(client_for, moderator):
    case = CaseFactory()
    client = client_for(moderator)
    client.post("/queue/next/")
    response = client.post(f"/cases/{case.pk}/leave/")
    assert response.status_code == 204
    case.refresh_from_db()
    assert (case.status, case.claimed_by, case.claim_expires_at) == ("open", None, None)
    event = AuditEvent.objects.filter(action="case.released", subject_id=str(case.pk)).get()
    assert event.actor_user == moderator
    assert event.data["reason"] == "left_page"
    assert event.data["before"]["claimed_by"] == moderator.pk


def test_the_release_endpoint_refuses_someone_elses_claim(client_for, moderator, moderator2):
    case = CaseFactory()
    case_claim_next(moderator=moderator2)
    response = client_for(moderator).post(f"/cases/{case.pk}/leave/")
    assert response.status_code == 409
    assert "You hold no claim on this case." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "in_review" and case.claimed_by == moderator2
    assert not AuditEvent.objects.filter(action="case.released").exists()


def test_leaving_a_decided_or_missing_case_changes_nothing(moderator):
    case = CaseFactory(status="dismissed")
    assert case_claim_leave(case_id=case.pk, moderator=moderator) is False
    assert case_claim_leave(case_id=999_999, moderator=moderator) is False
    case.refresh_from_db()
    assert case.status == "dismissed"
