"""Auditors' pages and exports: filters, keyset paging, exports in every format. Who may
open them is the role matrix's (tests/security/test_role_matrix.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, timedelta

import django_rq
import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook
from rq import SimpleWorker

from moderation.audit.selectors import PAGE_SIZE, audit_trail_page, decision_log_page
from moderation.audit.services.chain import Actor, audit_record
from moderation.audit.services.exports import (
    ExportDecisionRefused,
    export_contacts_decide,
    export_request,
    export_run,
)
from moderation.models import AuditEvent, Decision, Export
from tests.support.audit import FILTERS, at, decision_on
from tests.support.factories import (
    ApprovalFactory,
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    DeliveryAttemptFactory,
    PlatformFactory,
    ReportFactory,
    TakedownRequestFactory,
    UserFactory,
)


@pytest.fixture
def log(db):
    """A decision log with rows inside and outside a filter (michat, prostitution, 10-11 Mar)."""
    michat, other = PlatformFactory(slug="michat"), PlatformFactory(slug="wa")
    rows = {}
    # Inside the filter: the first and last minute of the two WIB days, in every state.
    rows["first_minute"] = decision_on(michat, when=at(0))
    rows["approved"] = decision_on(michat, when=at(5))
    request = TakedownRequestFactory(
        approval=ApprovalFactory(decision=rows["approved"], comment="=cmd|' /C calc'!A0"),
        status="taken_down",
        operator_reference="OP-1",
    )
    DeliveryAttemptFactory(request=request, number=1)
    rows["rejected"] = decision_on(michat, when=at(20))
    ApprovalFactory(decision=rows["rejected"], verdict="rejected", comment="Not enough evidence")
    rows["last_minute"] = decision_on(michat, when=at(47.99))
    ReportFactory(
        case=rows["last_minute"].case,
        source_kind="public",
        organisation=None,
        reporter_name="Siti Rahayu",
        reporter_email="siti@example.id",
        reporter_phone="+6281234567890",
    )
    # Outside: the wrong day (either side), platform or category.
    decision_on(michat, when=at(-0.01))
    decision_on(michat, when=at(48))
    decision_on(other, when=at(3))
    decision_on(michat, category="gambling", when=at(3))
    return rows


def expected_ids(log) -> set[int]:
    return {d.pk for d in log.values()}


def contacts_approver():
    from config.roles import Role

    existing = UserFactory._meta.model.objects.filter(username="approver").first()
    return existing or UserFactory(username="approver", roles=[Role.SUPERVISOR])


def run_export(user, fmt: str, *, include_contacts=False, filters=FILTERS) -> Export:
    export = export_request(
        user=user, filters=filters, format=fmt, include_contacts=include_contacts
    )
    if include_contacts:  # contact details wait for a supervisor's approval
        export_contacts_decide(export_id=export.pk, supervisor=contacts_approver(), approve=True)
    return export_run(export_id=export.pk)


def dsa_batches(data: bytes) -> list[list[dict]]:
    """The statements of a DSA export, file by file of the ZIP, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        return [json.loads(archive.read(name))["statements"] for name in names]


def read_rows(export: Export) -> list[dict]:
    with export.file.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == export.sha256
    if export.format == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    if export.format == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    if export.format == "dsa":
        return [
            {**s, "decision_id": int(s["puid"].rsplit("-", 1)[1])}
            for batch in dsa_batches(data)
            for s in batch
        ]
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Decisions"]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx", "dsa"])
def test_it_exports_exactly_the_matching_rows(log, auditor, fmt):
    export = run_export(auditor, fmt)
    rows = read_rows(export)
    # A statement of reasons is a restriction: of the four, only the approved takedown.
    expected = {log["approved"].pk} if fmt == "dsa" else expected_ids(log)
    assert sorted(int(r["decision_id"]) for r in rows) == sorted(expected)
    assert export.status == "done" and export.rows == len(rows) == len(expected)
    assert export.progress == export.total == len(expected)


def test_the_csv_carries_approval_and_takedown_and_defuses_formulas(log, auditor):
    rows = {int(r["decision_id"]): r for r in read_rows(run_export(auditor, "csv"))}
    approved = rows[log["approved"].pk]
    assert approved["approval_verdict"] == "approved"
    assert approved["takedown_status"] == "taken_down"
    assert approved["operator_reference"] == "OP-1"
    assert approved["approval_comment"].startswith("'=")  # not run as a formula
    assert rows[log["rejected"].pk]["approval_comment"] == "Not enough evidence"
    assert approved["decided_at"] == "2026-03-09T22:00:00Z"


def test_the_dsa_export_follows_the_statement_of_reasons_fields(log, auditor):
    statements = {s["decision_id"]: s for s in read_rows(run_export(auditor, "dsa"))}
    assert set(statements) == {log["approved"].pk}  # rejected and pending: no restriction
    approved = statements[log["approved"].pk]
    assert approved["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert approved["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "decision_visibility" not in approved  # the account decision stands for it
    assert approved["illegal_content_legal_ground"] == "UU ITE Pasal 27 ayat (1)"
    assert approved["category"] == "STATEMENT_CATEGORY_VIOLENCE"
    assert approved["category_specification"] == ["KEYWORD_HUMAN_EXPLOITATION"]
    assert (
        approved["content_date"]
        == log["approved"].case.opened_at.astimezone(UTC).date().isoformat()
    )
    assert approved["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert approved["saring"]["country"] == "ID"
    assert approved["saring"]["order_reference"] == str(log["approved"].approval.request.pk)


def test_every_dsa_statement_passes_the_transparency_database_rules_in_batches(
    auditor, monkeypatch
):
    """Every category, long texts, every kind of source and 23 approved takedowns in files of
    at most 10 (100 in production: the batch is a setting, shrunk so the test stays quick):
    each statement passes the validator's rules, with no personal data in its facts;
    dismissals and rejected proposals are no statements."""
    from accounts.categories import Category
    from tests.audit.dsa_rules import problems

    platform = PlatformFactory(slug="michat")
    people = []
    from moderation.audit.services import exports

    assert exports.DSA_BATCH == 100  # the batch endpoint's limit
    monkeypatch.setattr(exports, "DSA_BATCH", 10)
    for n in range(23):
        category = list(Category)[n % len(Category)]
        account = ChatAccountFactory(
            platform=platform, identifier=f"+62812{n:07d}", display_name=f"Bella BO {n}"
        )
        case = CaseFactory(account=account, category=category, source_kinds="ministry,public")
        decision = DecisionFactory(
            case=case,
            category=category,
            created_at=at(n / 10),
            rationale="x" * 2500 if n % 7 else "ok",
        )
        ApprovalFactory(decision=decision)
        people.append((account.identifier, account.display_name))
    dismissed = decision_on(platform, when=at(1), outcome="dismiss")
    rejected = decision_on(platform, when=at(2))
    ApprovalFactory(decision=rejected, verdict="rejected")
    export = run_export(auditor, "dsa", filters={})
    with export.file.open("rb") as handle:
        batches = dsa_batches(handle.read())
    assert [len(b) for b in batches] == [10, 10, 3]
    statements = [s for batch in batches for s in batch]
    assert export.rows == len(statements) == 23
    puids = {s["puid"] for s in statements}
    assert len(puids) == 23
    assert f"saring-decision-{dismissed.pk}" not in puids
    assert f"saring-decision-{rejected.pk}" not in puids
    personal = tuple(text for pair in people for text in pair)
    for statement in statements:
        assert problems(statement, personal=personal) == [], statement["puid"]


def test_the_dsa_rules_catch_what_the_old_export_sent():
    """The validator's rules as written here refuse what Saring used to send."""
    from tests.audit.dsa_rules import problems

    old = {
        "puid": "saring-decision-1",
        "decision_visibility": [],
        "decision_account": None,
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "UU ITE",
        "illegal_content_explanation": "x" * 2001,
        "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "category_specification": [],
        "category_specification_other": "prostitution",
        "content_type": ["CONTENT_TYPE_OTHER"],
        "content_type_other": "chat account",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "application_date": "2026-03-10",
        "decision_facts": "2 report(s) about the michat account +6281234567890. Decision: dismiss.",
    }
    found = " | ".join(problems(old))
    for expected in (
        "one of decision_visibility",
        "over 2,000",
        "PORNOGRAPHY_OR_SEXUALIZED_CONTENT is not allowed",
        "only kept with KEYWORD_OTHER",
        "content_date is required",
        "personal data",
    ):
        assert expected in found


def test_it_masks_reporter_contacts_unless_the_auditor_ticks_the_box(log, auditor):
    masked = {int(r["decision_id"]): r for r in read_rows(run_export(auditor, "csv"))}
    text = masked[log["last_minute"].pk]["public_reporters"]
    assert "siti@example.id" not in text and "Siti Rahayu" not in text
    assert "s•••@example.id" in text
    full = {
        int(r["decision_id"]): r
        for r in read_rows(run_export(auditor, "jsonl", include_contacts=True))
    }
    assert full[log["last_minute"].pk]["public_reporters"] == [
        {"name": "Siti Rahayu", "email": "siti@example.id", "phone": "+6281234567890"}
    ]
    requested = AuditEvent.objects.filter(action="export.requested").order_by("sequence")
    assert [e.data["include_contacts"] for e in requested] == [False, True]


def test_the_export_writes_its_audit_events(log, auditor):
    export = run_export(auditor, "csv")
    events = list(
        AuditEvent.objects.filter(subject_type="moderation.export", subject_id=str(export.pk))
        .order_by("sequence")
        .values_list("action", "actor_label", "data")
    )
    assert [(a, who) for a, who, _ in events] == [
        ("export.requested", "auditor"),
        ("export.completed", "export-worker"),
    ]
    completed = events[1][2]
    assert completed["rows"] == 4 and completed["sha256"] == export.sha256
    assert completed["filters"] == FILTERS and completed["requested_by"] == "auditor"


def test_an_export_is_written_only_once(log, auditor):
    export = run_export(auditor, "csv")
    again = export_run(export_id=export.pk)
    assert again.sha256 == export.sha256
    assert AuditEvent.objects.filter(action="export.completed").count() == 1


def test_an_auditor_downloads_the_export_file_and_the_download_is_audited(log, auditor, client_for):
    export = run_export(auditor, "csv")
    response = client_for(auditor).get(f"/audit/exports/{export.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1


@pytest.mark.parametrize("persona", ["moderator", "supervisor", "administrator"])
def test_an_export_asked_for_by_another_role_is_not_made(db, persona, request, client_for):
    """The role matrix (tests/security/) checks these roles are refused; this checks that
    the refusal writes nothing."""
    client_for(request.getfixturevalue(persona)).post("/audit/exports/", {"format": "csv"})
    assert not Export.objects.exists()
    assert not AuditEvent.objects.filter(action="export.requested").exists()


def test_the_decision_log_page_filters_and_shows_outcomes(log, auditor, client_for):
    query = "&".join(f"{k}={v}" for k, v in FILTERS.items())
    response = client_for(auditor).get(f"/audit/decisions/?{query}")
    assert response.status_code == 200
    shown = {int(pk) for pk in _data_attrs(response.content.decode(), "data-decision")}
    assert shown == expected_ids(log)
    page = response.content.decode()
    assert "Not enough evidence" in page and "Taken down" in page and "OP-1" in page
    htmx = client_for(auditor).get(f"/audit/decisions/?{query}", HTTP_HX_REQUEST="true")
    assert b"<html" not in htmx.content and b'id="results"' in htmx.content


def test_the_decision_log_filters_by_outcome_actor_and_source(log, auditor, client_for):
    def ids(**filters):
        return {d.pk for d in decision_log_page(filters=filters).rows}

    assert ids(outcome="request_taken_down") == {log["approved"].pk}
    assert ids(outcome="rejected") == {log["rejected"].pk}
    supervisor = log["approved"].approval.supervisor.username
    assert ids(actor=supervisor) == {log["approved"].pk}
    assert ids(actor=log["first_minute"].moderator.username) == {log["first_minute"].pk}
    log["first_minute"].case.source_kinds = "police,public"
    log["first_minute"].case.save(update_fields=["source_kinds"])
    assert ids(source_kind="police") == {log["first_minute"].pk}
    assert ids(source_kind="agency") == set()


def _data_attrs(html: str, name: str) -> list[str]:
    import re

    return re.findall(rf'{name}="(\d+)"', html)


@pytest.mark.parametrize(
    "query",
    [
        "date_from=yesterday",
        "date_from=2026-03-12&date_to=2026-03-10",
        "platform=nope",
        "category=knitting",
        "action=drop%20table%3B",
        "outcome=%00",
        "cursor=not-a-cursor",
        "cursor=99999999999999999999999.1",
        "date_from=0001-01-01",
    ],
)
def test_bad_filter_input_gives_form_errors_not_a_500(log, auditor, client_for, query):
    client = client_for(auditor)
    for path in ["/audit/decisions/", "/audit/trail/"]:
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        assert b'role="alert"' in response.content, (path, query)


def test_a_bad_export_request_is_refused_with_errors(log, auditor, client_for):
    response = client_for(auditor).post(
        "/audit/exports/", {"format": "pdf", "platform": "michat", "date_from": "nope"}
    )
    assert response.status_code == 400
    assert b"Format" in response.content
    assert Export.objects.count() == 0


def test_keyset_pagination_pages_through_everything_exactly_once(db):
    platform = PlatformFactory(slug="michat")
    moment = at(1)
    # Many decisions share one timestamp: the id breaks the tie.
    decisions = [
        decision_on(platform, when=moment if n % 3 else at(n / 10))
        for n in range(2 * PAGE_SIZE + 7)
    ]
    seen, cursor, pages = [], "", 0
    while True:
        page = decision_log_page(filters={}, cursor=cursor)
        seen += [d.pk for d in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(d.pk for d in decisions) and len(seen) == len(set(seen))
    ordered = list(Decision.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert seen == ordered


def test_keyset_pagination_through_the_trail_and_the_htmx_rows(db, auditor, client_for):
    events = [
        audit_record(actor=Actor.system(), action="test.page", data={"n": n})
        for n in range(PAGE_SIZE * 2 + 3)
    ]
    seen, cursor = [], ""
    while True:
        page = audit_trail_page(filters={"action": "test."}, cursor=cursor)
        seen += [e.sequence for e in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == sorted((e.sequence for e in events), reverse=True)
    client = client_for(auditor)
    first = client.get("/audit/trail/?action=test.").content.decode()
    shown = _data_attrs(first, "data-sequence")
    assert len(shown) == PAGE_SIZE
    more = client.get(
        f"/audit/trail/?action=test.&cursor={shown[-1]}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<table" not in more
    assert int(_data_attrs(more, "data-sequence")[0]) == int(shown[-1]) - 1


def test_the_trail_filters_by_actor_action_and_outcome(db, auditor, client_for):
    user = UserFactory(username="rina")
    audit_record(actor=Actor.staff(user), action="case.claimed", data={"status": "in_review"})
    audit_record(actor=Actor.system(), action="case.released", data={"status": "open"})
    audit_record(actor=Actor.staff(user), action="decision.made", data={"outcome": "dismiss"})

    def actions(**filters):
        return [e.action for e in audit_trail_page(filters=filters).rows]

    assert actions(actor="rina") == ["decision.made", "case.claimed"]
    assert actions(action="case.") == ["case.released", "case.claimed"]
    assert actions(action="case.claimed") == ["case.claimed"]
    assert actions(outcome="dismiss") == ["decision.made"]


def test_the_case_history_shows_everything_that_happened(log, auditor, client_for):
    decision = log["approved"]
    audit_record(actor=Actor.system(), action="case.closed", subject=decision.case)
    page = client_for(auditor).get(f"/audit/cases/{decision.case_id}/").content.decode()
    assert "case.closed" in page
    assert "=cmd|" in page  # the approval's comment
    assert str(decision.approval.request.pk) in page
    assert "acknowledged" in page  # the delivery attempt
    masked = client_for(auditor).get(f"/audit/cases/{log['last_minute'].case_id}/")
    assert b"siti@example.id" not in masked.content and "s•••@example.id" in masked.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_real_rq_worker_runs_an_export_end_to_end(auditor, client_for, monkeypatch, fmt):
    # Report progress after every row: the reports go over their own connection while
    # the rows stream over the first (sharing one deadlocks a COPY).
    monkeypatch.setattr("moderation.audit.services.exports.CHUNK_ROWS", 1)
    platform = PlatformFactory(slug="michat")
    wanted = [decision_on(platform, when=at(n)) for n in range(3)]
    decision_on(PlatformFactory(slug="wa"), when=at(1))
    queue = django_rq.get_queue("default")
    queue.empty()
    client = client_for(auditor)
    response = client.post("/audit/exports/", {"format": fmt, "platform": "michat"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert response["Location"] == f"/audit/exports/{export.pk}/"
    assert export.status == "queued" and queue.count == 1  # queued once committed
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    export.refresh_from_db()
    assert export.status == "done", export.error
    rows = read_rows(export)
    assert sorted(int(r["decision_id"]) for r in rows) == sorted(d.pk for d in wanted)
    progress = client.get(f"/audit/exports/{export.pk}/", HTTP_HX_REQUEST="true").content
    assert b'data-status="done"' in progress and b"hx-trigger" not in progress


@pytest.mark.parametrize("include_contacts", [False, True])
def test_the_csv_from_postgresql_masks_exactly_as_the_python_writers(db, auditor, include_contacts):
    """CSV is written by PostgreSQL, the other formats by Python: their masking must agree."""
    platform = PlatformFactory(slug="michat")
    decision = decision_on(platform, when=at(1))
    for name, email, phone in [
        ("Siti Rahayu", "siti@example.id", "+62 812-3456-7890"),
        ("", "no-at-sign", "no digits"),
        ("Budi", "", ""),
        ("=HYPERLINK()", "odd@", "08"),
    ]:
        ReportFactory(
            case=decision.case,
            source_kind="public",
            organisation=None,
            reporter_name=name,
            reporter_email=email,
            reporter_phone=phone,
        )
    filters = {"platform": "michat"}
    csv_row = read_rows(
        run_export(auditor, "csv", include_contacts=include_contacts, filters=filters)
    )[0]
    jsonl_row = read_rows(
        run_export(auditor, "jsonl", include_contacts=include_contacts, filters=filters)
    )[0]
    from config.spreadsheet import cell as _cell_text
    from moderation.audit.services.exports import _contacts_text

    assert csv_row["public_reporters"] == _cell_text(_contacts_text(jsonl_row["public_reporters"]))
    assert ("siti@example.id" in csv_row["public_reporters"]) is include_contacts
    for name in ["decision_id", "decided_at", "approval_verdict", "takedown_status", "rationale"]:
        assert str(jsonl_row[name] or "") == csv_row[name], name


def test_the_trail_filters_by_platform_category_and_source_kind(db):
    michat, other = PlatformFactory(slug="michat"), PlatformFactory(slug="wa")
    on_michat = CaseFactory(account=ChatAccountFactory(platform=michat), category="gambling")
    elsewhere = CaseFactory(account=ChatAccountFactory(platform=other))
    police = ReportFactory(case=elsewhere, source_kind="police")
    police.organisation.kind = "police"
    police.organisation.save(update_fields=["kind"])
    audit_record(actor=Actor.system(), action="case.opened", subject=on_michat)
    audit_record(actor=Actor.system(), action="case.opened", subject=elsewhere)
    audit_record(actor=Actor.operator(michat), action="takedown.callback", data={})
    audit_record(actor=Actor.organisation(police.organisation), action="report.received")
    audit_record(actor=Actor.system(), action="report.linked", subject=police)
    audit_record(actor=Actor.public(), action="report.received")

    def subjects(**filters):
        return [(e.action, e.subject_id) for e in audit_trail_page(filters=filters).rows]

    assert subjects(platform="michat") == [
        ("takedown.callback", ""),
        ("case.opened", str(on_michat.pk)),
    ]
    assert subjects(category="gambling") == [("case.opened", str(on_michat.pk))]
    assert subjects(source_kind="police") == [
        ("report.linked", str(police.pk)),
        ("report.received", ""),
    ]
    assert subjects(source_kind="public") == [("report.received", "")]


@pytest.fixture
def objections(db):
    """Three approved takedowns on MiChat: one whose owner's objection was granted (the
    supervisor's reason starts like a formula), one whose objection awaits a decision, one
    nobody objected to."""
    from config.roles import Role
    from moderation.objections import objection_decide
    from tests.support.objections import objected

    michat = PlatformFactory(slug="michat")
    rows = {}
    for name, hours in (("granted", 1), ("awaiting", 2), ("none", 3)):
        rows[name] = decision_on(michat, when=at(hours))
        request = TakedownRequestFactory(
            approval=ApprovalFactory(decision=rows[name]), status="taken_down"
        )
        if name != "none":
            rows[f"{name}_objection"] = objected(request, reference=f"op-obj-{name}")
    rows["granted_objection"] = objection_decide(
        objection_id=rows["granted_objection"].pk,
        supervisor=UserFactory(username="fresh-eyes", roles=[Role.SUPERVISOR]),
        outcome="granted",
        reason="=Nama sama, orang lain: akun toko batik.",
    )
    return rows


OBJECTION_COLUMNS = [
    "objection",
    "objection_status",
    "objection_decided_at",
    "objection_reason",
    "restore_status",
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_each_decision_row_carries_the_objection_outcome_of_its_takedown(objections, auditor, fmt):
    rows = {
        int(r["decision_id"]): r
        for r in read_rows(run_export(auditor, fmt, filters={"platform": "michat"}))
    }
    assert len(rows) == 3  # an objection adds columns, never rows
    granted = rows[objections["granted"].pk]
    objection = objections["granted_objection"]
    decided_at = objection.decided_at.astimezone(UTC)
    assert granted["objection"] == objection.receipt_code
    assert granted["objection_status"] == "granted"
    assert granted["restore_status"] == "pending"  # the restore request, on its way
    if fmt == "xlsx":  # a real date cell, in UTC; text cells defused
        written = granted["objection_decided_at"]  # a spreadsheet keeps milliseconds
        assert abs(written - decided_at.replace(tzinfo=None)) < timedelta(milliseconds=1)
        assert granted["objection_reason"] == "'=Nama sama, orang lain: akun toko batik."
    elif fmt == "csv":
        assert granted["objection_decided_at"] == decided_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert granted["objection_reason"] == "'=Nama sama, orang lain: akun toko batik."
    else:
        assert granted["objection_decided_at"] == decided_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert granted["objection_reason"] == "=Nama sama, orang lain: akun toko batik."
    awaiting = rows[objections["awaiting"].pk]
    assert awaiting["objection"] == objections["awaiting_objection"].receipt_code
    assert awaiting["objection_status"] == "received"
    assert not awaiting["objection_decided_at"] and not awaiting["objection_reason"]
    assert not any(rows[objections["none"].pk][name] for name in OBJECTION_COLUMNS)


def test_the_csv_from_postgresql_writes_the_objection_columns_as_the_python_writers(
    objections, auditor
):
    csv_rows = read_rows(run_export(auditor, "csv", filters={"platform": "michat"}))
    jsonl_rows = read_rows(run_export(auditor, "jsonl", filters={"platform": "michat"}))
    assert list(csv_rows[0])[-len(OBJECTION_COLUMNS) - 1 : -1] == OBJECTION_COLUMNS
    from config.spreadsheet import cell as _cell_text

    for csv_row, jsonl_row in zip(csv_rows, jsonl_rows, strict=True):
        for name in OBJECTION_COLUMNS:
            assert csv_row[name] == _cell_text(jsonl_row[name] or ""), name


def test_a_dsa_statement_keeps_the_objection_beside_the_schemas_fields(objections, auditor):
    from tests.audit.dsa_rules import problems

    statements = {
        s["decision_id"]: s
        for s in read_rows(run_export(auditor, "dsa", filters={"platform": "michat"}))
    }
    objection = objections["granted_objection"]
    assert statements[objections["granted"].pk]["saring"]["objection"] == {
        "id": objection.receipt_code,
        "status": "granted",
        "decided_at": objection.decided_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": "=Nama sama, orang lain: akun toko batik.",
        "restore_status": "pending",
    }
    assert statements[objections["none"].pk]["saring"]["objection"] is None
    for statement in statements.values():
        assert problems(statement) == [], statement["puid"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_unfiltered_export_holds_every_decision(log, auditor, fmt):
    rows = read_rows(run_export(auditor, fmt, filters={}))
    assert sorted(int(r["decision_id"]) for r in rows) == sorted(
        Decision.objects.values_list("pk", flat=True)
    )
    assert len(rows) == 8


def test_an_export_of_everything_can_be_requested_from_the_page(log, auditor, client_for):
    response = client_for(auditor).post("/audit/exports/", {"format": "dsa"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.filters == {} and export.format == "dsa"


def test_contact_details_wait_for_another_supervisor_and_run_only_once_approved(
    log, auditor, client_for
):
    from config.roles import Role

    auditor.groups.add(*Group.objects.filter(staff_role__key=Role.SUPERVISOR.value))  # both roles
    auditor._saring_roles = None
    export = export_request(user=auditor, filters=FILTERS, format="csv", include_contacts=True)
    assert export.status == "awaiting"
    export_run(export_id=export.pk)  # a worker that picked it up anyway does nothing
    export.refresh_from_db()
    assert export.status == "awaiting" and not export.file
    with pytest.raises(ExportDecisionRefused):
        export_contacts_decide(export_id=export.pk, supervisor=auditor, approve=True)
    approver = contacts_approver()
    page = client_for(approver).get("/audit/exports/awaiting/")
    assert f'id="export-{export.pk}"' in page.content.decode()
    response = client_for(approver).post(
        f"/audit/exports/{export.pk}/contacts/", {"verdict": "approve"}
    )
    assert response.status_code == 302
    export.refresh_from_db()
    assert (export.status, export.contacts_decided_by) == ("queued", approver)
    done = export_run(export_id=export.pk)
    assert done.status == "done"
    rows = {int(r["decision_id"]): r for r in read_rows(done)}
    assert "siti@example.id" in rows[log["last_minute"].pk]["public_reporters"]
    approved = AuditEvent.objects.get(action="export.contacts_approved")
    assert approved.subject_id == str(export.pk) and approved.actor_label.endswith("approver")


def test_a_refused_contact_export_never_runs(log, auditor):
    export = export_request(user=auditor, filters=FILTERS, format="csv", include_contacts=True)
    export_contacts_decide(export_id=export.pk, supervisor=contacts_approver(), approve=False)
    export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "refused" and not export.file
    with pytest.raises(ExportDecisionRefused):
        export_contacts_decide(export_id=export.pk, supervisor=contacts_approver(), approve=True)
    assert AuditEvent.objects.filter(action="export.contacts_refused").count() == 1


def test_the_database_refuses_contact_details_released_by_the_one_who_asked(db, auditor):
    from django.db import IntegrityError, transaction

    export = export_request(user=auditor, filters={}, format="csv", include_contacts=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Export.objects.filter(pk=export.pk).update(status="queued", contacts_decided_by=auditor)
