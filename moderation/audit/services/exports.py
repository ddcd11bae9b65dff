"""Auditors' exports of the decision log: CSV, JSON Lines, XLSX and DSA statements of reasons.

An export is requested (an Export row and an audit event, the job queued on commit) and then
run by a django-rq worker, which streams the matching rows from a server-side cursor into a
temporary file chunk by chunk — memory stays flat at any size — and stores the file in the
private `exports` storage with its SHA-256 and row count. Completion is an audit event too.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from psycopg import ClientCursor

from config.spreadsheet import cell
from moderation.audit.selectors import (
    EXPORT_COLUMNS,
    EXPORT_HEADER,
    decision_log_csv_copy,
    decision_log_export_rows,
)
from moderation.audit.services.chain import Actor, audit_record
from moderation.models import Export
from reports.access import mask_email, mask_name, mask_phone

CHUNK_ROWS = 5000
# The RQ job that writes an export, by name: the service queues it without importing the
# jobs module (which imports this one).
EXPORT_JOB = "moderation.audit.jobs.export_job"
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx", "dsa": "json"}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dsa": "application/json; charset=utf-8",
}

_INDEX = {name: i for i, name in enumerate(EXPORT_HEADER)}
_DATETIME_COLUMNS = [
    _INDEX[name]
    for name in (
        "decided_at",
        "approved_at",
        "takedown_issued_at",
        "takedown_deadline",
        "takedown_resolved_at",
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
    """Record the request and queue the job once the request is committed."""
    with transaction.atomic():
        export = Export(
            requested_by=user,
            kind="decisions",
            filters=filters,
            format=format,
            include_contacts=include_contacts,
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
        # robust: if Redis is down the request still stands (queued) and the page still answers.
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
        if not include:
            name, email, phone = mask_name(name), mask_email(email), mask_phone(phone)
        out.append({"name": name, "email": email, "phone": phone})
    return out


def _contacts_text(contacts: list[dict[str, str]]) -> str:
    parts = ((c["name"], f"<{c['email']}>" if c["email"] else "", c["phone"]) for c in contacts)
    return "; ".join(" ".join(p for p in contact if p) for contact in parts)


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

# Our categories in the Transparency Database's vocabulary (its STATEMENT_CATEGORY_* list).
DSA_CATEGORY = {
    "prostitution": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "pornography": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "child_sexual_abuse": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "gambling": "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "fraud": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "illegal_finance": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "terrorism": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "drugs": "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "hate_speech": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "disinformation": "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "other": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
}
DSA_CATEGORY_SPECIFICATION = {
    "child_sexual_abuse": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
}


def dsa_statement(row: tuple, *, include_contacts: bool) -> dict[str, Any]:
    """One decision as a statement of reasons, with what the schema cannot hold under "saring".

    Only an approved takedown restricts anything: for other decisions the decision_* fields
    are empty and `saring.restriction_applied` is false, so every decision stays in the file.
    """
    r = _record(row, include_contacts)
    restricted = r["decision"] == "propose_takedown" and r["approval_verdict"] == "approved"
    kinds = [k for k in (r["source_kinds"] or "").split(",") if k]
    applied = r["takedown_issued_at"] or r["approved_at"] or r["decided_at"]
    source_type = (
        "SOURCE_TYPE_OTHER_NOTIFICATION"
        if set(kinds) & {"ministry", "police", "agency"}
        else "SOURCE_ARTICLE_16"
    )
    facts = (
        f"{r['report_count']} report(s) from {', '.join(kinds) or 'unknown sources'} about the "
        f"{r['platform']} account {r['account']}. Decision: {r['decision']}"
        + (f", {r['approval_verdict']} by a supervisor" if r["approval_verdict"] else "")
        + (f"; takedown request {r['takedown_status']}" if r["takedown_status"] else "")
        + "."
    )
    return {
        "puid": f"saring-decision-{r['decision_id']}",
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"] if restricted else [],
        "decision_account": "DECISION_ACCOUNT_TERMINATED" if restricted else None,
        "decision_monetary": None,
        "decision_provision": None,
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": r["legal_basis"] or "",
        "illegal_content_explanation": r["rationale"],
        "category": DSA_CATEGORY.get(r["category"] or "", DSA_CATEGORY["other"]),
        "category_specification": DSA_CATEGORY_SPECIFICATION.get(r["category"] or "", []),
        "category_specification_other": r["category"] or "",
        "content_type": ["CONTENT_TYPE_OTHER"],
        "content_type_other": "chat account",
        "territorial_scope": [],  # EU member states only; Indonesia is under saring.country
        "source_type": source_type,
        "source_identity": ", ".join(kinds),
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "application_date": applied[:10] if applied else None,
        "decision_facts": facts,
        "saring": {
            "country": "ID",
            "legal_basis": r["legal_basis"],
            "order_reference": r["takedown_request_id"],
            "requester_kind": kinds,
            "approver": r["supervisor"],
            "approval_verdict": r["approval_verdict"],
            "approved_at": r["approved_at"],
            "moderator": r["moderator"],
            "decision": r["decision"],
            "decided_at": r["decided_at"],
            "restriction_applied": restricted,
            "case_id": r["case_id"],
            "platform": r["platform"],
            "account": r["account"],
            "urgency": r["urgency"],
            "takedown_status": r["takedown_status"],
            "takedown_deadline": r["takedown_deadline"],
            "takedown_resolved_at": r["takedown_resolved_at"],
            "operator_reference": r["operator_reference"],
            "public_reporters": r["public_reporters"],
        },
    }


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
    """{"statements": [...]}, the shape of the Transparency Database's batch API, streamed."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    text.write('{"statements": [\n')
    count = 0
    for row in rows:
        if count:
            text.write(",\n")
        text.write(
            json.dumps(dsa_statement(row, include_contacts=include_contacts), ensure_ascii=False)
        )
        count += 1
    text.write("\n]}\n")
    text.flush()
    text.detach()
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
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, progress=0
    )
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    if claimed != 1:  # another worker has it, or it is finished
        return export
    try:
        return _export_write(export)
    except Exception as exc:
        with transaction.atomic():
            Export.objects.filter(pk=export.pk).update(
                status=Export.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
            )
            audit_record(
                actor=Actor.system("export-worker"),
                action="export.failed",
                subject=export,
                data={"format": export.format, "error": str(exc)[:500]},
            )
        raise


def _export_write(export: Export) -> Export:
    filters = export.filters or {}
    total = decision_log_export_rows(filters=filters).order_by().count()
    Export.objects.filter(pk=export.pk).update(total=total)
    with _progress_reporter(export.pk) as progress:
        return _export_file(export, filters, progress)


@contextlib.contextmanager
def _progress_reporter(export_id: int) -> Iterator[Progress]:
    """Progress goes over a second connection: the first is busy streaming rows (a COPY or a
    server-side cursor cannot share its connection), and the poller must see it at once."""
    side = connection.get_new_connection(connection.get_connection_params())
    side.autocommit = True
    try:

        def progress(done: int) -> None:
            side.execute(
                "UPDATE moderation_export SET progress = %s WHERE id = %s", [done, export_id]
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
            rows = _chunked(
                decision_log_export_rows(filters=filters).iterator(chunk_size=CHUNK_ROWS),
                progress,
            )
            count = WRITERS[export.format](rows, handle, include_contacts=export.include_contacts)
        handle.flush()
        sha256 = _sha256(handle)
        name = f"decisions-{export.pk}-{started:%Y%m%dT%H%M%SZ}.{EXTENSIONS[export.format]}"
        export.file.save(name, File(handle, name=name), save=False)
    with transaction.atomic():
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
    "export_downloaded",
    "export_request",
    "export_run",
]
