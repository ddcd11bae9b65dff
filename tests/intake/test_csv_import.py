"""Bulk import of reports from a CSV file: per-row results, the command, and the upload page
with its RQ job. Who may open the import pages is the role matrix's (tests/security/)."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from moderation.models import AuditEvent
from reports.models import ImportJob, Report
from reports.services.imports import import_job_create, import_job_run
from tests.support.intake import michat, organisation

HEADER = ["external_reference", "platform", "account", "category", "description", "urgent"]


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


GOOD_ROWS = [
    ["CR-1", "michat", "0812-1111-2222", "prostitution", "Open BO", ""],
    ["CR-2", "MiChat", "@bella_jkt", "gambling", "Slot", "ya"],
    ["CR-3", "myspace", "@x", "gambling", "Slot", ""],
    ["CR-4", "michat", "@@@", "fraud", "Tipu", ""],
    ["CR-5", "michat", "@manja", "jaywalking", "?", "maybe"],
    ["CR-6", "michat", "+62 812 1111 2222", "prostitution", "<script>alert(1)</script>", "no"],
]


@pytest.mark.django_db
def test_an_import_creates_reports_and_reports_bad_rows_per_row():
    michat()
    org = organisation()
    job = import_job_create(
        organisation=org, file=ContentFile(csv_bytes(GOOD_ROWS), name="list.csv"), enqueue=False
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == "done" and job.total_rows == 6 and job.processed_rows == 6
    assert (job.created_count, job.duplicate_count, job.error_count) == (3, 0, 3)
    rows = {entry["row"]: entry["errors"] for entry in job.errors}
    assert set(rows) == {4, 5, 6}
    assert "platform" in rows[4] and "account.identifier" in rows[5]
    assert {"category", "urgent"} <= set(rows[6])
    assert Report.objects.get(external_reference="CR-2").urgent is True
    # Rows 2 and 7 name one number in two formats: one account, one case.
    assert Report.objects.get(external_reference="CR-1").case_id == (
        Report.objects.get(external_reference="CR-6").case_id
    )
    assert AuditEvent.objects.filter(action="report.received").count() == 3
    assert AuditEvent.objects.filter(action="reports.import_finished").count() == 1

    # The same file again: everything recognised, nothing duplicated.
    again = import_job_create(
        organisation=org, file=ContentFile(csv_bytes(GOOD_ROWS), name="list.csv"), enqueue=False
    )
    again = import_job_run(job_id=again.pk)
    assert (again.created_count, again.duplicate_count, again.error_count) == (0, 3, 3)
    assert Report.objects.count() == 3
    # A finished job is not run twice.
    assert import_job_run(job_id=again.pk) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"ref,platform\nA,michat\n", "Missing columns"),
        (b"", "Missing columns"),
    ],
)
def test_an_unreadable_file_fails_with_a_reason(content, message):
    michat()
    job = import_job_create(
        organisation=organisation(), file=ContentFile(content, name="x.csv"), enqueue=False
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed" and message in job.failure


@pytest.mark.django_db
def test_the_command_imports_a_file(tmp_path):
    michat()
    organisation("kominfo")
    path = tmp_path / "crawler.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS[:2]))
    out = StringIO()
    call_command("import_reports", str(path), "--organisation", "kominfo", stdout=out)
    assert "2 created" in out.getvalue()
    assert Report.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_upload_page_queues_an_rq_job_that_a_worker_runs(client_for, supervisor):
    import django_rq
    from rq import SimpleWorker

    michat()
    org = organisation()
    queue = django_rq.get_queue("default")
    queue.empty()
    client = client_for(supervisor)
    upload = SimpleUploadedFile("list.csv", csv_bytes(GOOD_ROWS), "text/csv")
    response = client.post("/reports/import/", {"organisation": org.pk, "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/import/{job.pk}/"
    assert job.status == "queued" and queue.count == 1
    page = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in page.content
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 3
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in partial.content and b"<html" not in partial.content
    assert b"error report" in partial.content
    report = client.get(f"/reports/import/{job.pk}/errors.csv")
    assert report.status_code == 200 and b"myspace" in report.content
