"""Bulk CSV import of an organisation's reports, run by the RQ worker (DESIGN.md "Queues").

Rows go through the same checks and the same `reports_receive` as the API, 500 at a time, so
a file imported twice — or a row the API already received — is recognised by its
external_reference and not stored again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.jobguard import WORKER_LOST, job_claim, job_heartbeat, stale_before
from moderation.audit import Actor, audit_record
from reports.models import ImportJob, SourceOrganisation
from reports.services.intake import (
    MAX_BATCH,
    ReportInput,
    ReportInvalid,
    clean_text,
    platforms_by_slug,
    report_input_parse,
    reports_receive,
)

REQUIRED_COLUMNS = ("external_reference", "platform", "account", "category", "description")
OPTIONAL_COLUMNS = ("display_name", "profile_url", "content_urls", "observed_at", "urgent")
TRUE = {"1", "true", "yes", "y", "ya"}
FALSE = {"", "0", "false", "no", "n", "tidak"}
CONFLICT_MESSAGE = "Imported before with different content; this row was not imported again."
# The RQ job that runs an import, by name: the service queues it without importing the jobs
# module (which imports this one).
IMPORT_JOB = "reports.jobs.import_job"


class ImportFileInvalid(ValueError):
    pass


def import_job_create(
    *,
    organisation: SourceOrganisation,
    file: File,
    requested_by: User | None = None,
    ip_address: str | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Keep the file, record the job and, once committed, hand it to the RQ worker."""
    with transaction.atomic():
        job = ImportJob(
            organisation=organisation,
            requested_by=requested_by,
            original_name=clean_text(getattr(file, "name", "") or "import.csv")[-255:],
        )
        job.file.save("import.csv", file, save=False)
        job.save()
        audit_record(
            actor=Actor.staff(requested_by) if requested_by else Actor.system("import_reports"),
            action="reports.import_requested",
            subject=job,
            data={"after": {"organisation": organisation.slug, "file": job.original_name}},
            ip_address=ip_address,
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(job_id: int) -> None:
    import django_rq

    django_rq.get_queue("default").enqueue(IMPORT_JOB, job_id)


def _row_to_payload(row: dict[str, str]) -> dict:
    """One CSV row as the JSON body the API takes, so both go through one parser."""
    payload: dict = {
        "external_reference": row.get("external_reference") or "",
        "platform": (row.get("platform") or "").strip().lower(),
        "account": {"identifier": row.get("account") or ""},
        "category": (row.get("category") or "").strip().lower(),
        "description": row.get("description") or "",
    }
    for name in ("display_name", "profile_url"):
        if row.get(name):
            payload["account"][name] = row[name]
    if row.get("content_urls"):
        payload["content_urls"] = row["content_urls"].split()
    if row.get("observed_at"):
        payload["observed_at"] = row["observed_at"].strip()
    urgent = (row.get("urgent") or "").strip().lower()
    payload["urgent"] = True if urgent in TRUE else False if urgent in FALSE else urgent
    return payload


def _rows(job: ImportJob) -> Iterator[tuple[int, dict[str, str]]]:
    with job.file.open("rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileInvalid(
            f"The file is not UTF-8 text (byte {exc.start}). Save it as CSV UTF-8."
        ) from None
    reader = csv.DictReader(io.StringIO(clean_text(text), newline=""))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileInvalid(
            f"Missing columns: {', '.join(missing)}. The first row must name the columns "
            f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    reader.fieldnames = columns
    try:
        for number, row in enumerate(reader, start=2):  # row 1 is the header
            yield number, {k: (v if isinstance(v, str) else "") for k, v in row.items() if k}
    except csv.Error as exc:
        raise ImportFileInvalid(f"The CSV cannot be read: {exc}") from None


class _Superseded(Exception):
    """This run was given up on (its worker seemed gone); another owns the job now."""


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job; a job another worker already started is left alone."""
    attempt = job_claim(table="reports_importjob", pk=job_id, extra_sql=", started_at = now()")
    if attempt is None:
        return None
    job = ImportJob.objects.select_related("organisation", "requested_by").get(pk=job_id)
    try:
        with job_heartbeat(table="reports_importjob", pk=job.pk, attempt=attempt):
            _run(job)
    except _Superseded:  # given up on and perhaps retried meanwhile: that run owns the row
        return None
    except ImportFileInvalid as exc:
        _finish(job, status=ImportJob.Status.FAILED, failure=str(exc))
    except Exception as exc:
        _finish(job, status=ImportJob.Status.FAILED, failure=f"Import stopped: {exc}")
        raise
    else:
        _finish(job, status=ImportJob.Status.DONE)
    job.refresh_from_db()
    return job


def _run(job: ImportJob) -> None:
    rows = list(_rows(job))
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows))
    platforms = platforms_by_slug()
    actor = (
        Actor.staff(job.requested_by) if job.requested_by else Actor.organisation(job.organisation)
    )
    for start in range(0, len(rows), MAX_BATCH):
        chunk = rows[start : start + MAX_BATCH]
        inputs: list[ReportInput] = []
        numbers: list[int] = []
        errors: list[dict[str, Any]] = []
        for number, row in chunk:
            try:
                inputs.append(
                    report_input_parse(
                        _row_to_payload(row), platforms=platforms, organisation=job.organisation
                    )
                )
                numbers.append(number)
            except ReportInvalid as exc:
                errors.append({"row": number, "errors": exc.errors})
        outcomes = reports_receive(inputs=inputs, organisation=job.organisation, actor=actor)
        conflicts = [
            {"row": number, "errors": {"external_reference": [CONFLICT_MESSAGE]}}
            for number, outcome in zip(numbers, outcomes, strict=True)
            if outcome.status == "conflict"
        ]
        counts = {"created": 0, "duplicate": 0, "conflict": 0}
        for outcome in outcomes:
            counts[outcome.status] += 1
        with transaction.atomic():
            locked = (
                ImportJob.objects.select_for_update()
                .filter(pk=job.pk, status=ImportJob.Status.RUNNING, attempt=job.attempt)
                .first()
            )
            if locked is None:
                raise _Superseded
            kept = locked.errors + sorted(errors + conflicts, key=lambda e: e["row"])
            ImportJob.objects.filter(pk=job.pk).update(
                processed_rows=F("processed_rows") + len(chunk),
                created_count=F("created_count") + counts["created"],
                duplicate_count=F("duplicate_count") + counts["duplicate"],
                conflict_count=F("conflict_count") + counts["conflict"],
                error_count=F("error_count") + len(errors),
                errors=kept[: ImportJob.MAX_ERRORS],
            )


def _finish(job: ImportJob, *, status: str, failure: str = "", actor: Actor | None = None) -> None:
    with transaction.atomic():
        finished = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.RUNNING, attempt=job.attempt
        ).update(status=status, failure=failure[:2000], finished_at=timezone.now())
        if not finished:  # given up on meanwhile (config/jobguard.py): already recorded
            return
        job.refresh_from_db()
        audit_record(
            actor=actor or Actor.system("import_reports"),
            action="reports.import_finished",
            subject=job,
            data={
                "before": {"status": "running"},
                "after": {
                    "status": status,
                    "rows": job.total_rows,
                    "created": job.created_count,
                    "duplicates": job.duplicate_count,
                    "conflicts": job.conflict_count,
                    "errors": job.error_count,
                    "failure": failure[:300],
                },
            },
        )


def imports_stalled_fail() -> int:
    """Mark failed every running import whose worker is gone (its heartbeat went stale,
    config/jobguard.py), with the usual audit event. What it stored stays: a retry
    recognises those rows and stores only the rest."""
    stalled = list(
        ImportJob.objects.filter(status=ImportJob.Status.RUNNING, heartbeat_at__lt=stale_before())
    )  # each with the attempt it ran: _finish applies only if that is still the one running
    for job in stalled:
        _finish(
            job,
            status=ImportJob.Status.FAILED,
            failure=WORKER_LOST,
            actor=Actor.system("job-reaper"),
        )
    return len(stalled)


class ImportRetryRefused(Exception):
    pass


def import_retry(*, job_id: int, user: User, ip_address: str | None = None) -> ImportJob:
    """Queue a failed import again. Rows it stored before are recognised by their
    references (duplicates), so nothing is stored twice; audited."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportJob.Status.FAILED:
            raise ImportRetryRefused(_("Only a failed import can be retried."))
        previous = job.failure
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.QUEUED,
            total_rows=None,
            processed_rows=0,
            created_count=0,
            duplicate_count=0,
            conflict_count=0,
            error_count=0,
            errors=[],
            failure="",
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
        )
        audit_record(
            actor=Actor.staff(user),
            action="reports.import_retried",
            subject=job,
            data={"previous_failure": previous[:300]},
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    job.refresh_from_db()
    return job
