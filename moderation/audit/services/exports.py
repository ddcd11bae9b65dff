"""Auditors' exports of the decision log: CSV, JSON Lines, XLSX and DSA statements of reasons.

An export is requested (an Export row and an audit event, the job queued on commit) and then
run by a django-rq worker, which streams the matching rows from a server-side cursor into a
temporary file chunk by chunk — memory stays flat at any size — and stores the file in the
private `exports` storage with its SHA-256 and row count. Completion is an audit event too.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import ClientCursor

from config.jobguard import (
    WORKER_LOST,
    job_claim,
    job_heartbeat,
    side_connection,
    stale_before,
)
from config.roles import Role, has_role
from config.spreadsheet import cell
from moderation.audit.selectors import (
    ERASED_CONTACT,
    EXPORT_COLUMNS,
    EXPORT_HEADER,
    decision_log_csv_copy,
    decision_log_export_rows,
)
from moderation.audit.services import log
from moderation.audit.services.chain import Actor, audit_record
from moderation.models import AuditCheckpoint, AuditEvent, Export
from reports.access import mask_email, mask_name, mask_phone
from verifier import saring_verify

CHUNK_ROWS = 5000
# The RQ job that writes an export, by name: the service queues it without importing the
# jobs module (which imports this one).
EXPORT_JOB = "moderation.audit.jobs.export_job"
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx", "dsa": "zip"}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dsa": "application/zip",
}

_INDEX = {name: i for i, name in enumerate(EXPORT_HEADER)}
_DATETIME_COLUMNS = [
    _INDEX[name]
    for name in (
        "decided_at",
        "case_opened_at",
        "approved_at",
        "takedown_issued_at",
        "takedown_deadline",
        "takedown_resolved_at",
        "objection_decided_at",
    )
]
_CONTACTS = _INDEX["public_reporters"]
_REQUEST_ID = _INDEX["takedown_request_id"]


# --- requesting ------------------------------------------------------------------------


def export_request(
    *,
    user: User,
    filters: dict[str, str],
    format: str,
    include_contacts: bool,
    ip_address: str | None = None,
) -> Export:
    """Record the request and queue the job once the request is committed. With public
    reporters' contact details it waits instead for a supervisor's approval
    (`export_contacts_decide`)."""
    with transaction.atomic():
        export = Export(
            requested_by=user,
            kind="decisions",
            filters=filters,
            format=format,
            include_contacts=include_contacts,
            status=Export.Status.AWAITING if include_contacts else Export.Status.QUEUED,
        )
        export.full_clean(exclude=["filters"])  # no filters ({}) is valid: every decision
        export.save(force_insert=True)
        audit_record(
            actor=Actor.staff(user),
            action="export.requested",
            subject=export,
            data={
                "format": format,
                "filters": filters,
                "include_contacts": include_contacts,
            },
            ip_address=ip_address,
        )
        if not include_contacts:
            # robust: if Redis is down the request still stands (queued), the page answers.
            transaction.on_commit(lambda: export_enqueue(export_id=export.pk), robust=True)
    return export


class ExportDecisionRefused(Exception):
    """A supervisor's approval or refusal that cannot be made; the message says why."""


def export_contacts_decide(
    *, export_id: int, supervisor: User, approve: bool, ip_address: str | None = None
) -> Export:
    """A supervisor lets an export with reporters' contact details run, or refuses it. Not
    the person who asked for it (the database refuses that too:
    `export_contacts_decided_by_another`); only while it awaits a decision."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise ExportDecisionRefused(_("Only supervisors decide on contact details."))
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != Export.Status.AWAITING:
            raise ExportDecisionRefused(_("This export is no longer awaiting a decision."))
        if export.requested_by_id == supervisor.pk:
            raise ExportDecisionRefused(
                _("Someone else must approve contact details you asked for.")
            )
        export.status = Export.Status.QUEUED if approve else Export.Status.REFUSED
        export.contacts_decided_by = supervisor
        export.contacts_decided_at = timezone.now()
        export.save(update_fields=["status", "contacts_decided_by", "contacts_decided_at"])
        audit_record(
            actor=Actor.staff(supervisor),
            action="export.contacts_approved" if approve else "export.contacts_refused",
            subject=export,
            data={
                "requested_by": export.requested_by.get_username(),
                "format": export.format,
                "filters": export.filters,
            },
            ip_address=ip_address,
        )
        if approve:
            transaction.on_commit(lambda: export_enqueue(export_id=export.pk), robust=True)
    return export


def export_enqueue(*, export_id: int) -> None:
    import django_rq

    django_rq.get_queue("default").enqueue(EXPORT_JOB, export_id)


# --- rows as each format writes them ---------------------------------------------------


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _contacts(value: list[dict] | None, include: bool) -> list[dict[str, str]]:
    out = []
    for contact in value or []:
        name, email, phone = contact["name"], contact["email"], contact["phone"]
        if contact.get("erased"):  # under retention: nothing is left to show or mask
            out.append(
                {"name": ERASED_CONTACT.format(day=contact["erased"]), "email": "", "phone": ""}
            )
            continue
        if not include:
            name, email, phone = mask_name(name), mask_email(email), mask_phone(phone)
        out.append({"name": name, "email": email, "phone": phone})
    return out


def _contacts_text(contacts: list[dict[str, str]]) -> str:
    """The reporters as "name <email> phone; …": empty parts and reporters are left out, so
    the list never starts, ends or doubles with "; "."""
    parts = ((c["name"], f"<{c['email']}>" if c["email"] else "", c["phone"]) for c in contacts)
    texts = (" ".join(p.strip() for p in contact if p and p.strip()) for contact in parts)
    return "; ".join(text for text in texts if text)


def _flat_row(row: tuple, include_contacts: bool) -> list:
    """A row of plain strings and numbers for CSV (times in UTC, ISO 8601)."""
    out = list(row)
    for i in _DATETIME_COLUMNS:
        out[i] = _iso(out[i])
    if out[_REQUEST_ID] is not None:
        out[_REQUEST_ID] = str(out[_REQUEST_ID])
    out[_CONTACTS] = _contacts_text(_contacts(out[_CONTACTS], include_contacts))
    return [cell(v) if v is not None else "" for v in out]


def _record(row: tuple, include_contacts: bool) -> dict[str, Any]:
    record = dict(zip(EXPORT_HEADER, row, strict=True))
    for i in _DATETIME_COLUMNS:
        record[EXPORT_HEADER[i]] = _iso(row[i]) or None
    if record["takedown_request_id"] is not None:
        record["takedown_request_id"] = str(record["takedown_request_id"])
    record["public_reporters"] = _contacts(row[_CONTACTS], include_contacts)
    return record


# --- the EU DSA Transparency Database's "statement of reasons" -------------------------
#
# The Transparency Database (transparency.dsa.ec.europa.eu) is where EU online platforms file
# their statements of reasons (DSA Art. 17, 24(5)). Saring is not such a platform: this file is
# "DSA-shaped", for exchanging takedown decisions with platforms that report there, in the
# fields and values its validator accepts (the revised schema, mandatory since 2025-07-01;
# tests/audit/dsa_rules.py). Only a restriction is a statement: approved takedowns only.

# Our categories in the database's STATEMENT_CATEGORY_* list, and its keywords for them.
_PROHIBITED = ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", ["KEYWORD_PROHIBITED_PRODUCTS"])
DSA_CATEGORY = {
    "prostitution": ("STATEMENT_CATEGORY_VIOLENCE", ["KEYWORD_HUMAN_EXPLOITATION"]),
    "pornography": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ["KEYWORD_ADULT_SEXUAL_MATERIAL"]),
    "child_sexual_abuse": (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
    ),
    "gambling": _PROHIBITED,
    "fraud": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", []),
    "illegal_finance": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", []),
    "terrorism": ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", ["KEYWORD_TERRORIST_CONTENT"]),
    "drugs": _PROHIBITED,
    "hate_speech": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_HATE_SPEECH"]),
    "disinformation": ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", []),
    "other": ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", []),
}
DSA_BATCH = 100  # statements a file: the database's batch endpoint takes 1 to 100
DSA_LEGAL_GROUND_MAX = 500
DSA_EXPLANATION_MAX = 2000
SOURCE_NAMES = {"ministry": "the ministry", "police": "the police", "agency": "a state agency"}


def _within(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dsa_restricts(row: tuple) -> bool:
    """Only an approved takedown restricts anything, so only it is a statement of reasons."""
    return row[_INDEX["decision"]] == "propose_takedown" and (
        row[_INDEX["approval_verdict"]] == "approved"
    )


def dsa_statement(row: tuple) -> dict[str, Any]:
    """One approved takedown as a statement of reasons. `decision_facts` holds no personal
    data (DSA Art. 24(5)): no account name or number, no reporter; what the schema cannot
    hold (our country, legal basis, order reference, approver) is under "saring"."""
    r = _record(row, include_contacts=False)
    kinds = [k for k in (r["source_kinds"] or "").split(",") if k]
    authorities = [SOURCE_NAMES[k] for k in kinds if k in SOURCE_NAMES]
    applied = r["takedown_issued_at"] or r["approved_at"] or r["decided_at"]
    category, keywords = DSA_CATEGORY.get(r["category"] or "", DSA_CATEGORY["other"])
    facts = (
        f"{r['report_count']} report(s) about a chat account on {r['platform']}"
        + (f", among them an order from {' and '.join(authorities)}" if authorities else "")
        + (", from members of the public" if "public" in kinds else "")
        + ". A moderator proposed taking the account down and a second person, a supervisor,"
        " approved it; the platform operator was ordered to terminate the account"
        + (f" (request {r['takedown_status'].replace('_', ' ')})" if r["takedown_status"] else "")
        + "."
    )
    statement: dict[str, Any] = {
        "puid": f"saring-decision-{r['decision_id']}",
        "decision_account": "DECISION_ACCOUNT_TERMINATED",
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": _within(
            r["legal_basis"] or "Indonesian law", DSA_LEGAL_GROUND_MAX
        ),
        "illegal_content_explanation": _within(r["rationale"], DSA_EXPLANATION_MAX),
        "category": category,
        "content_type": ["CONTENT_TYPE_OTHER"],
        "content_type_other": "chat account",
        "content_date": (r["case_opened_at"] or r["decided_at"])[:10],
        "application_date": applied[:10],
        "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION" if authorities else "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "decision_facts": facts,
        "saring": {
            "country": "ID",
            "legal_basis": r["legal_basis"],
            "order_reference": r["takedown_request_id"],
            "requester_kind": kinds,
            "approver": r["supervisor"],
            "approved_at": r["approved_at"],
            "moderator": r["moderator"],
            "decided_at": r["decided_at"],
            "case_id": r["case_id"],
            "platform": r["platform"],
            "account": r["account"],
            "urgency": r["urgency"],
            "takedown_status": r["takedown_status"],
            "takedown_deadline": r["takedown_deadline"],
            "takedown_resolved_at": r["takedown_resolved_at"],
            "operator_reference": r["operator_reference"],
            # The owner's objection and its outcome (issue 18), or None: the DSA schema has
            # no field for redress, so it stays beside the statement's own fields.
            "objection": {
                "id": r["objection"],
                "status": r["objection_status"],
                "decided_at": r["objection_decided_at"],
                "reason": r["objection_reason"],
                "restore_status": r["restore_status"],
            }
            if r["objection"]
            else None,
        },
    }
    if keywords:
        statement["category_specification"] = keywords
    return statement


# --- writers: each takes rows and a binary file, returns the number of rows written ------

Progress = Callable[[int], None]


def _chunked(rows: Iterable[tuple], progress: Progress) -> Iterator[tuple]:
    for count, row in enumerate(rows, start=1):
        yield row
        if count % CHUNK_ROWS == 0:
            progress(count)


def write_csv(rows: Iterable[tuple], out: IO[bytes], *, include_contacts: bool) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow(EXPORT_HEADER)
    count = 0
    for row in rows:
        writer.writerow(_flat_row(row, include_contacts))
        count += 1
    text.flush()
    text.detach()
    return count


def write_jsonl(rows: Iterable[tuple], out: IO[bytes], *, include_contacts: bool) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    count = 0
    for row in rows:
        text.write(json.dumps(_record(row, include_contacts), ensure_ascii=False))
        text.write("\n")
        count += 1
    text.flush()
    text.detach()
    return count


def write_dsa(rows: Iterable[tuple], out: IO[bytes], *, include_contacts: bool) -> int:
    """A ZIP of `statements-00001.json`, … each {"statements": [≤ 100]}: one file a call of the
    Transparency Database's batch endpoint. Approved takedowns only (`dsa_restricts`); no
    reporter contacts whatever the box says (they are no part of a statement)."""
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            # Statement by statement into the entry's stream: no string of the whole batch.
            name = f"statements-{count // DSA_BATCH + (1 if count % DSA_BATCH else 0):05d}.json"
            with archive.open(name, "w") as entry:
                entry.write(b'{"statements": [')
                for number, statement in enumerate(batch):
                    entry.write(b",\n" if number else b"\n")
                    entry.write(json.dumps(statement, ensure_ascii=False).encode())
                entry.write(b"\n]}\n")
            batch.clear()

        for row in rows:
            if not dsa_restricts(row):
                continue
            batch.append(dsa_statement(row))
            count += 1
            if len(batch) == DSA_BATCH:
                flush()
        if batch:
            flush()
    return count


def write_xlsx(rows: Iterable[tuple], out: IO[bytes], *, include_contacts: bool) -> int:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Write-only: rows go to a temporary sheet file as they come, never all in memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Decisions")
    sheet.append(EXPORT_HEADER)
    count = 0
    for row in rows:
        values = list(row)
        for i in _DATETIME_COLUMNS:
            if values[i] is not None:
                values[i] = values[i].astimezone(UTC).replace(tzinfo=None)
        if values[_REQUEST_ID] is not None:
            values[_REQUEST_ID] = str(values[_REQUEST_ID])
        values[_CONTACTS] = _contacts_text(_contacts(values[_CONTACTS], include_contacts))
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", cell(v)) if isinstance(v, str) else v for v in values]
        )
        count += 1
    workbook.save(out)
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "xlsx": write_xlsx, "dsa": write_dsa}


def copy_csv(
    *, filters: dict[str, str], include_contacts: bool, out: IO[bytes], progress: Progress
) -> int:
    """CSV written by PostgreSQL itself (COPY … TO STDOUT): no Python work per row.

    Progress counts line ends, which a multi-line cell can overstate; the final count is
    PostgreSQL's own ("COPY n")."""
    sql, params = decision_log_csv_copy(filters=filters, include_contacts=include_contacts)
    lines, reported = 0, 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper takes no COPY parameters
        statement = ClientCursor(raw.connection).mogrify(sql, params)
        with raw.copy(statement) as copy:
            for block in copy:
                out.write(block)
                lines += bytes(block).count(b"\n")
                if lines - reported >= CHUNK_ROWS:
                    reported = lines
                    progress(max(lines - 1, 0))
        return raw.rowcount


# --- running ---------------------------------------------------------------------------


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def export_run(*, export_id: int) -> Export:
    """Write the file of a queued export. Idempotent: only one worker may claim it."""
    attempt = job_claim(table="moderation_export", pk=export_id, extra_sql=", progress = 0")
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    if attempt is None:  # another worker has it, or it is finished
        return export
    try:
        with job_heartbeat(table="moderation_export", pk=export.pk, attempt=attempt):
            return _export_write(export)
    except Exception as exc:
        with transaction.atomic():
            failed = Export.objects.filter(
                pk=export.pk, status=Export.Status.RUNNING, attempt=attempt
            ).update(status=Export.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
            if failed:
                audit_record(
                    actor=Actor.system("export-worker"),
                    action="export.failed",
                    subject=export,
                    data={"format": export.format, "error": str(exc)[:500]},
                )
        raise


def exports_stalled_fail(*, now: datetime | None = None) -> int:
    """Mark failed every running export whose worker is gone (its heartbeat went stale,
    config/jobguard.py), one audit event each, so nobody watches "running" forever."""
    now = now or timezone.now()
    with transaction.atomic():
        stalled = list(
            Export.objects.select_for_update(skip_locked=True).filter(
                status=Export.Status.RUNNING, heartbeat_at__lt=stale_before()
            )
        )
        for export in stalled:
            Export.objects.filter(pk=export.pk, attempt=export.attempt).update(
                status=Export.Status.FAILED, error=WORKER_LOST, finished_at=now
            )
            audit_record(
                actor=Actor.system("job-reaper"),
                action="export.failed",
                subject=export,
                data={
                    "format": export.format,
                    "error": WORKER_LOST,
                    "last_heartbeat": export.heartbeat_at.isoformat()
                    if export.heartbeat_at
                    else None,
                    "progress": export.progress,
                },
            )
    return len(stalled)


class ExportRetryRefused(Exception):
    pass


def export_retry(*, export_id: int, user: User, ip_address: str | None = None) -> Export:
    """Queue a failed export again, from the start; audited."""
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != Export.Status.FAILED:
            raise ExportRetryRefused(_("Only a failed export can be retried."))
        before = export.error
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.QUEUED,
            progress=0,
            total=None,
            error="",
            finished_at=None,
            heartbeat_at=None,
        )
        audit_record(
            actor=Actor.staff(user),
            action="export.retried",
            subject=export,
            data={"format": export.format, "previous_error": before[:500]},
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: export_enqueue(export_id=export.pk), robust=True)
    export.refresh_from_db()
    return export


def _export_rows(export: Export, filters: dict[str, str]) -> QuerySet:
    """The rows of an export: every matching decision, or for DSA statements the approved
    takedowns among them (nothing else restricts anything)."""
    rows = decision_log_export_rows(filters=filters)
    if export.format == Export.Format.DSA:
        rows = rows.filter(outcome="propose_takedown", approval__verdict="approved")
    return rows


def _export_write(export: Export) -> Export:
    filters = export.filters or {}
    total = _export_rows(export, filters).order_by().count()
    Export.objects.filter(pk=export.pk).update(total=total)
    with _progress_reporter(export.pk, export.attempt) as progress:
        return _export_file(export, filters, progress)


@contextlib.contextmanager
def _progress_reporter(export_id: int, attempt: int) -> Iterator[Progress]:
    """Progress goes over a second connection: the first is busy streaming rows (a COPY or a
    server-side cursor cannot share its connection), and the poller must see it at once.
    Only while the export still runs this attempt (config/jobguard.py)."""
    side = side_connection()
    try:

        def progress(done: int) -> None:
            side.execute(
                "UPDATE moderation_export SET progress = %s"
                " WHERE id = %s AND attempt = %s AND status = 'running'",
                [done, export_id, attempt],
            )

        yield progress
    finally:
        side.close()


def _export_file(export: Export, filters: dict[str, str], progress: Progress) -> Export:
    started = timezone.now()
    with tempfile.TemporaryFile(prefix="saring-export-") as handle:
        if export.format == Export.Format.CSV:
            count = copy_csv(
                filters=filters,
                include_contacts=export.include_contacts,
                out=handle,
                progress=progress,
            )
        else:
            rows = _chunked(_export_rows(export, filters).iterator(chunk_size=CHUNK_ROWS), progress)
            count = WRITERS[export.format](rows, handle, include_contacts=export.include_contacts)
        handle.flush()
        sha256 = _sha256(handle)
        name = f"decisions-{export.pk}-{started:%Y%m%dT%H%M%SZ}.{EXTENSIONS[export.format]}"
        export.file.save(name, File(handle, name=name), save=False)
    with transaction.atomic():
        if (
            not Export.objects.select_for_update()
            .filter(pk=export.pk, status=Export.Status.RUNNING, attempt=export.attempt)
            .exists()
        ):  # given up on meanwhile (config/jobguard.py): this run changes nothing
            export.file.delete(save=False)
            return Export.objects.get(pk=export.pk)
        export.status = Export.Status.DONE
        export.rows = count
        export.progress = count
        export.total = count
        export.sha256 = sha256
        export.finished_at = timezone.now()
        export.save(
            update_fields=[
                "status",
                "rows",
                "progress",
                "total",
                "sha256",
                "file",
                "finished_at",
            ]
        )
        audit_record(
            actor=Actor.system("export-worker"),
            action="export.completed",
            subject=export,
            data={
                "format": export.format,
                "filters": filters,
                "rows": count,
                "sha256": sha256,
                "file": export.file.name,
                "requested_by": export.requested_by.get_username(),
                "include_contacts": export.include_contacts,
                "seconds": round((export.finished_at - started).total_seconds(), 3),
            },
        )
    return export


class ProofNotReady(Exception):
    """The export's completion is not sealed under a signed checkpoint yet (seconds)."""


def export_proof_bundle(*, export: Export) -> dict[str, Any]:
    """What lets anyone check this export file against the log (verifier/saring_verify.py
    `export`): the first signed checkpoint whose tree holds the event that recorded the
    file's SHA-256, that event's canonical bytes, its leaf index and inclusion proof."""
    event_id = (
        AuditEvent.objects.filter(
            action="export.completed", subject_type="moderation.export", subject_id=str(export.pk)
        )
        .values_list("id", flat=True)
        .first()
    )
    sealed = log.event_leaf(event_id) if event_id is not None else None
    if sealed is None:
        raise ProofNotReady
    index, event_bytes = sealed
    checkpoint = AuditCheckpoint.objects.filter(size__gt=index).order_by("size").first()
    if checkpoint is None:
        raise ProofNotReady
    proof = log.inclusion_proof(index, checkpoint.size)
    return {
        "format": saring_verify.BUNDLE_FORMAT,
        "export_id": export.pk,
        "export_sha256": export.sha256,
        "checkpoint": checkpoint.note,
        "leaf_index": index,
        "event": base64.b64encode(event_bytes).decode(),
        "proof": [base64.b64encode(node).decode() for node in proof],
    }


def export_downloaded(*, export: Export, user: User, ip_address: str | None) -> None:
    """Reading a file of personal data is worth a line in the trail."""
    with transaction.atomic():
        audit_record(
            actor=Actor.staff(user),
            action="export.downloaded",
            subject=export,
            data={"sha256": export.sha256, "rows": export.rows},
            ip_address=ip_address,
        )


__all__ = [
    "CONTENT_TYPES",
    "EXPORT_COLUMNS",
    "dsa_statement",
    "ProofNotReady",
    "ExportDecisionRefused",
    "export_contacts_decide",
    "export_downloaded",
    "export_proof_bundle",
    "export_request",
    "export_run",
]
