"""Retention (README "Retention"): evidence bytes and public reporters' contact details are
deleted exactly when due — their case final for longer than the period and not held — with
one audit event per batch; the legal hold; what the pages show afterwards."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from config.roles import Role
from moderation.audit.services.exports import export_contacts_decide, export_request, export_run
from moderation.models import AuditEvent, Case
from moderation.retention import retention_run
from moderation.retention.services import (
    LegalHoldRefused,
    case_legal_hold_clear,
    case_legal_hold_set,
)
from reports.models import Evidence, Report
from tests.support.factories import CaseFactory, DecisionFactory, ReportFactory, UserFactory
from tests.support.intake import PNG

pytestmark = pytest.mark.django_db

EVIDENCE_DAYS, CONTACT_DAYS = 365, 30


@pytest.fixture(autouse=True)
def periods(settings):
    settings.RETENTION_EVIDENCE_DAYS = EVIDENCE_DAYS
    settings.RETENTION_REPORTER_CONTACT_DAYS = CONTACT_DAYS


def case_closed(days_ago: float | None, *, status: str = "closed", held_by=None) -> Case:
    """A case closed `days_ago` days ago (None: still open)."""
    now = timezone.now()
    case = CaseFactory(
        status=status if days_ago is not None else "open",
        closed_at=now - timedelta(days=days_ago) if days_ago is not None else None,
        opened_at=now - timedelta(days=1000),
    )
    if held_by is not None:
        case_legal_hold_set(case_id=case.pk, supervisor=held_by, reason="PTUN Jakarta 12/G/2026")
    return case


def evidence_of(case: Case, content: bytes = PNG) -> Evidence:
    evidence = Evidence(
        report=ReportFactory(case=case, account=case.account),
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="shot.png",
    )
    evidence.file.save("shot.png", ContentFile(content), save=False)
    evidence.save()
    return evidence


def public_report_of(case: Case, n: int = 1) -> Report:
    return ReportFactory(
        case=case,
        account=case.account,
        source_kind="public",
        organisation=None,
        external_reference=None,
        reporter_name=f"Siti Rahayu {n}",
        reporter_email=f"siti{n}@example.id",
        reporter_phone="+6281234567890",
        reporter_consent=True,
        reporter_key=f"{n:032x}",
    )


def run(django_capture_on_commit_callbacks, **kwargs):
    """A run whose transactions commit (the files go after each batch's commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return retention_run(**kwargs)


def gone(evidence: Evidence, name: str) -> bool:
    return not evidence.file.storage.exists(name)


def test_it_deletes_exactly_the_evidence_that_is_due(
    supervisor, django_capture_on_commit_callbacks
):
    due_closed = evidence_of(case_closed(EVIDENCE_DAYS + 1))
    due_dismissed = evidence_of(case_closed(EVIDENCE_DAYS + 30, status="dismissed"))
    recent = evidence_of(case_closed(EVIDENCE_DAYS - 1))
    still_open = evidence_of(case_closed(None))
    held = evidence_of(case_closed(EVIDENCE_DAYS + 100, held_by=supervisor))
    names = {e.pk: e.file.name for e in (due_closed, due_dismissed, recent, still_open, held)}

    result = run(django_capture_on_commit_callbacks)

    assert result.evidence_deleted == 2
    for evidence in (due_closed, due_dismissed):
        row = Evidence.objects.get(pk=evidence.pk)  # the row stays
        assert row.deleted_at is not None
        assert row.sha256 == hashlib.sha256(PNG).hexdigest()  # and its hash
        assert row.file.name == ""
        assert gone(evidence, names[evidence.pk])  # the bytes go
    for evidence in (recent, still_open, held):
        row = Evidence.objects.get(pk=evidence.pk)
        assert row.deleted_at is None
        assert row.file.name == names[evidence.pk]
        with row.file.open("rb") as handle:
            assert handle.read() == PNG


def test_it_erases_exactly_the_contacts_that_are_due(
    supervisor, django_capture_on_commit_callbacks
):
    due = public_report_of(case_closed(CONTACT_DAYS + 1), 1)
    recent = public_report_of(case_closed(CONTACT_DAYS - 1), 2)
    still_open = public_report_of(case_closed(None), 3)
    held = public_report_of(case_closed(CONTACT_DAYS + 400, held_by=supervisor), 4)
    organisation = ReportFactory(case=due.case, account=due.case.account)
    evidence = evidence_of(due.case)  # closed 31 days ago: the evidence is not due yet

    result = run(django_capture_on_commit_callbacks)

    assert result.contacts_erased == 1
    due.refresh_from_db()
    assert (due.reporter_name, due.reporter_email, due.reporter_phone, due.reporter_key) == (
        "",
        "",
        "",
        "",
    )
    assert due.contact_deleted_at is not None
    assert due.reporter_consent is True  # what they agreed to is a record, not a contact
    for report, n in ((recent, 2), (still_open, 3), (held, 4)):
        report.refresh_from_db()
        assert report.reporter_email == f"siti{n}@example.id"
        assert report.contact_deleted_at is None
    organisation.refresh_from_db()
    assert organisation.contact_deleted_at is None
    evidence.refresh_from_db()
    assert evidence.deleted_at is None


def test_each_batch_is_one_audit_event_with_counts_and_hashes(django_capture_on_commit_callbacks):
    old = case_closed(EVIDENCE_DAYS + 1)
    pictures = [evidence_of(old, PNG + bytes([i])) for i in range(3)]
    reports = [public_report_of(old, n) for n in (1, 2)]

    result = run(django_capture_on_commit_callbacks, batch_size=2)

    events = list(AuditEvent.objects.filter(action__startswith="retention.").order_by("sequence"))
    assert [e.sequence for e in events] == result.batches
    assert [(e.action, e.data["count"]) for e in events] == [
        ("retention.evidence_deleted", 2),
        ("retention.evidence_deleted", 1),
        ("retention.contacts_erased", 2),
    ]
    hashes = [h for e in events[:2] for h in e.data["sha256"]]
    assert hashes == [p.sha256 for p in pictures]
    assert [i for e in events[:2] for i in e.data["evidence"]] == [p.pk for p in pictures]
    assert events[0].data["cases"] == [old.pk]
    assert events[2].data["reports"] == [r.pk for r in reports]
    assert events[2].data["cases"] == [old.pk]
    assert all(e.actor_label == "retention" and e.actor_kind == "system" for e in events)
    text = json.dumps([e.data for e in events])
    assert "siti" not in text.lower() and "6281234567890" not in text  # no contact values


def test_a_run_that_died_after_its_commit_is_finished_by_the_next():
    evidence = evidence_of(case_closed(EVIDENCE_DAYS + 1))
    name = evidence.file.name
    # Without the on-commit callbacks the files are never removed: the run "died" there.
    assert retention_run().evidence_deleted == 1
    evidence.refresh_from_db()
    assert evidence.deleted_at is not None and evidence.file.name == name
    assert evidence.file.storage.exists(name)

    again = retention_run()

    assert again.evidence_deleted == 0 and again.leftover_files_removed == 1
    evidence.refresh_from_db()
    assert evidence.file.name == "" and gone(evidence, name)
    assert AuditEvent.objects.filter(action="retention.evidence_deleted").count() == 1


def test_a_dry_run_lists_what_is_due_and_changes_nothing():
    evidence = evidence_of(case_closed(EVIDENCE_DAYS + 1))
    report = public_report_of(case_closed(CONTACT_DAYS + 1))
    kept = evidence_of(case_closed(1))
    out = io.StringIO()

    call_command("retention_run", "--dry-run", stdout=out)

    text = out.getvalue()
    assert f"evidence {evidence.pk} sha256 {evidence.sha256}" in text
    assert f"report {report.pk} case {report.case_id}" in text
    assert f"evidence {kept.pk} " not in text
    assert not Evidence.objects.filter(deleted_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="retention.").exists()


def test_the_command_deletes_what_is_due(django_capture_on_commit_callbacks):
    evidence_of(case_closed(EVIDENCE_DAYS + 1))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention_run", stdout=out)
    assert "Deleted 1 evidence files" in out.getvalue()


# --- what the pages show --------------------------------------------------------------------


def test_deleted_evidence_answers_a_placeholder_not_the_bytes(
    client_for, moderator, django_capture_on_commit_callbacks
):
    evidence = evidence_of(case_closed(EVIDENCE_DAYS + 1))
    run(django_capture_on_commit_callbacks)
    client = client_for(moderator)

    response = client.get(f"/evidence/{evidence.pk}/")

    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Deleted under retention on" in page
    assert evidence.sha256 in page

    indonesian = client.get(f"/evidence/{evidence.pk}/", HTTP_ACCEPT_LANGUAGE="id")
    assert "Dihapus berdasarkan masa retensi pada" in indonesian.content.decode()


def test_the_case_page_shows_deleted_evidence_and_erased_contacts(
    client_for, supervisor, django_capture_on_commit_callbacks
):
    case = case_closed(EVIDENCE_DAYS + 1)
    evidence = evidence_of(case)
    public_report_of(case)
    run(django_capture_on_commit_callbacks)

    response = client_for(supervisor).get(f"/cases/{case.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Deleted under retention on" in page
    assert f'src="/evidence/{evidence.pk}/"' not in page
    assert "contact details erased under retention on" in page
    assert "siti1@example.id" not in page


def test_exports_show_erased_contacts_as_erased(auditor, django_capture_on_commit_callbacks):
    case = case_closed(CONTACT_DAYS + 1)
    DecisionFactory(case=case, moderator=UserFactory(), outcome="dismiss", legal_basis=None)
    public_report_of(case)
    run(django_capture_on_commit_callbacks)
    day = Report.objects.get(case=case).contact_deleted_at.date().isoformat()
    approver = UserFactory(roles=[Role.SUPERVISOR])

    texts = {}
    for fmt in ("csv", "jsonl"):  # PostgreSQL's COPY and the Python writers
        export = export_request(user=auditor, filters={}, format=fmt, include_contacts=True)
        export_contacts_decide(export_id=export.pk, supervisor=approver, approve=True)
        with export_run(export_id=export.pk).file.open("rb") as handle:
            texts[fmt] = handle.read().decode()

    assert f"[erased under retention {day}]" in texts["csv"]
    assert json.loads(texts["jsonl"].splitlines()[0])["public_reporters"] == [
        {"name": f"[erased under retention {day}]", "email": "", "phone": ""}
    ]
    assert "siti" not in texts["csv"] + texts["jsonl"]


# --- the legal hold -------------------------------------------------------------------------


def test_a_supervisor_sets_and_clears_a_legal_hold_audited(client_for, supervisor):
    case = case_closed(EVIDENCE_DAYS + 1)
    client = client_for(supervisor)
    url = f"/cases/{case.pk}/legal-hold/"

    response = client.post(url, {"action": "set", "reason": "Objection filed 3 March"})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.legal_hold_at is not None and case.legal_hold_by == supervisor
    assert case.legal_hold_reason == "Objection filed 3 March"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Objection filed 3 March" in page and "Clear the legal hold" in page

    client.post(url, {"action": "clear", "reason": "Objection withdrawn"})

    case.refresh_from_db()
    assert case.legal_hold_at is None and case.legal_hold_reason == ""
    events = AuditEvent.objects.filter(subject_type="moderation.case", subject_id=str(case.pk))
    assert [(e.action, e.actor_label, e.data["reason"]) for e in events.order_by("sequence")] == [
        ("case.legal_hold_set", "supervisor", "Objection filed 3 March"),
        ("case.legal_hold_cleared", "supervisor", "Objection withdrawn"),
    ]
    assert events.order_by("sequence").last().data["before"]["legal_hold"] is True


def test_a_legal_hold_needs_a_reason(client_for, supervisor):
    case = case_closed(1)
    client_for(supervisor).post(f"/cases/{case.pk}/legal-hold/", {"action": "set", "reason": " "})
    case.refresh_from_db()
    assert case.legal_hold_at is None
    assert not AuditEvent.objects.filter(action__startswith="case.legal_hold").exists()


@pytest.mark.parametrize("person", ["moderator", "auditor"])
def test_only_supervisors_hold_cases(request, client_for, person):
    """The pages answer 403 (tests/security/test_role_matrix.py); the service refuses too."""
    user = request.getfixturevalue(person)
    case = case_closed(1)
    response = client_for(user).post(
        f"/cases/{case.pk}/legal-hold/", {"action": "set", "reason": "mine"}
    )
    assert response.status_code == 403
    with pytest.raises(LegalHoldRefused):
        case_legal_hold_set(case_id=case.pk, supervisor=user, reason="mine")
    case.refresh_from_db()
    assert case.legal_hold_at is None
    assert not AuditEvent.objects.filter(action__startswith="case.legal_hold").exists()


def test_clearing_a_hold_lets_the_next_run_delete(supervisor, django_capture_on_commit_callbacks):
    case = case_closed(EVIDENCE_DAYS + 1, held_by=supervisor)
    evidence = evidence_of(case)
    assert run(django_capture_on_commit_callbacks).evidence_deleted == 0
    case_legal_hold_clear(case_id=case.pk, supervisor=supervisor, reason="Court case decided")
    assert run(django_capture_on_commit_callbacks).evidence_deleted == 1
    evidence.refresh_from_db()
    assert evidence.deleted_at is not None


# --- the auditors' page ---------------------------------------------------------------------


def test_the_batches_page_lists_each_batch_and_links_its_event(
    client_for, auditor, django_capture_on_commit_callbacks
):
    case = case_closed(EVIDENCE_DAYS + 1)
    evidence = evidence_of(case)
    public_report_of(case)
    result = run(django_capture_on_commit_callbacks)
    evidence_event, contacts_event = result.batches
    client = client_for(auditor)

    page = client.get("/retention/").content.decode()

    for sequence in result.batches:
        assert f'href="/retention/{sequence}/"' in page
    assert f'href="/cases/{case.pk}/"' in page
    detail = client.get(f"/retention/{evidence_event}/").content.decode()
    assert evidence.sha256 in detail
    assert client.get(f"/retention/{contacts_event}/").status_code == 200
    assert client.get("/retention/999999999/").status_code == 404


def test_the_batches_page_pages_by_keyset(client_for, auditor, django_capture_on_commit_callbacks):
    from moderation.retention.selectors import PAGE_SIZE

    case = case_closed(EVIDENCE_DAYS + 1)
    for i in range(PAGE_SIZE + 1):
        evidence_of(case, PNG + i.to_bytes(2, "big"))
    result = run(django_capture_on_commit_callbacks, batch_size=1)
    client = client_for(auditor)

    first = client.get("/retention/").content.decode()
    assert f'href="/retention/{result.batches[-1]}/"' in first
    assert f'href="/retention/{result.batches[0]}/"' not in first
    cursor = first.split("?cursor=")[1].split('"')[0]
    second = client.get(f"/retention/?cursor={cursor}").content.decode()
    assert f'href="/retention/{result.batches[0]}/"' in second
    assert client.get("/retention/?cursor=nonsense").status_code == 404
