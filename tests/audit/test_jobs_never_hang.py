"""Long jobs that never hang (config/jobguard.py): a running export or import whose worker is
gone is marked failed with the reason, audited, and can be retried — proven with a real RQ
worker killed in the middle of an export."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import timedelta

import django_rq.settings
import psutil
import psycopg
import pytest
import redis
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils import timezone
from rq import Queue

from config.jobguard import WORKER_LOST
from moderation.audit.services.exports import EXPORT_JOB, exports_stalled_fail
from moderation.models import AuditEvent, Export
from reports.models import ImportJob, Report
from reports.services.imports import import_job_run, import_retry, imports_stalled_fail
from tests.support import ROOT
from tests.support.factories import PlatformFactory, SourceOrganisationFactory
from tests.support.takedowns import RedisServer, database_url_of_tests, wait_for

FAST = {"JOB_HEARTBEAT_SECONDS": "0.3"}


def rq_worker(redis_url: str, *, burst: bool = False) -> subprocess.Popen:
    """A real `manage.py rqworker default` (it forks a work horse per job)."""
    env = dict(os.environ, DATABASE_URL=database_url_of_tests(), REDIS_URL=redis_url, **FAST)
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default", *(["--burst"] if burst else [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a process and everything under it (RQ's work horse has a session of its own)."""
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(tree, timeout=30)
    process.wait(30)


@pytest.mark.django_db(transaction=True)
def test_a_killed_rq_workers_export_is_marked_failed_and_can_be_retried(
    auditor, client_for, monkeypatch
):
    server = RedisServer().start()
    holder = None
    worker = None
    try:
        export = Export.objects.create(requested_by=auditor, format=Export.Format.CSV)
        # The decisions table is held, so the export stays in the middle of its work.
        holder = psycopg.connect(database_url_of_tests())
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE moderation_decision IN ACCESS EXCLUSIVE MODE")
        Queue("default", connection=redis.Redis.from_url(server.url)).enqueue(EXPORT_JOB, export.pk)
        worker = rq_worker(server.url)
        wait_for(
            lambda: Export.objects.filter(pk=export.pk, status="running").exists(),
            timeout=60,
            what="the worker to start the export",
        )
        first = Export.objects.get(pk=export.pk).heartbeat_at
        with override_settings(JOB_STALE_SECONDS=1.5):
            # Alive though stuck: the heartbeat goes on, and nobody gives up on it.
            wait_for(
                lambda: (
                    Export.objects.get(pk=export.pk).heartbeat_at > first + timedelta(seconds=2)
                ),
                timeout=30,
                what="heartbeats",
            )
            assert exports_stalled_fail() == 0
            kill_tree(worker)  # the worker and its work horse, as an OOM kill would

            holder.rollback()
            wait_for(lambda: exports_stalled_fail() == 1, timeout=30, what="the reaper")
        export.refresh_from_db()
        assert (export.status, export.error) == ("failed", WORKER_LOST)
        event = AuditEvent.objects.get(action="export.failed", subject_id=str(export.pk))
        assert event.data["error"] == WORKER_LOST and event.actor_kind == "system"
        page = client_for(auditor).get(f"/audit/exports/{export.pk}/").content.decode()
        assert "The worker writing it stopped" in page and "Try again" in page

        # Retried by the auditor: queued again, and a worker finishes it.
        # django-rq reads its queues once; point them at this test's Redis for the retry.
        monkeypatch.setattr(django_rq.settings, "QUEUES", {"default": {"URL": server.url}})
        response = client_for(auditor).post(f"/audit/exports/{export.pk}/retry/")
        assert response.status_code == 302
        assert Export.objects.get(pk=export.pk).status in ("queued", "running", "done")
        assert AuditEvent.objects.filter(action="export.retried", actor_user=auditor).count() == 1
        finisher = rq_worker(server.url, burst=True)
        finisher.wait(120)
        export.refresh_from_db()
        assert export.status == "done" and export.error == "" and export.sha256
    finally:
        if worker is not None and worker.poll() is None:
            kill_tree(worker)
        if holder is not None:
            holder.close()
        server.stop()


CSV = (
    b"external_reference,platform,account,category,description\n"
    b"IMP-1,michat,0812-1111-2222,prostitution,Open BO\n"
    b"IMP-2,michat,0812-1111-3333,gambling,Slot gacor\n"
)


@pytest.mark.django_db
def test_an_import_whose_worker_is_gone_fails_with_the_reason_and_a_retry_stores_the_rest(
    supervisor, client_for
):
    PlatformFactory(slug="michat")
    organisation = SourceOrganisationFactory()
    # What the lost run had stored before its worker died: the first row.
    earlier = ImportJob(organisation=organisation, requested_by=supervisor)
    earlier.file.save(
        "first.csv",
        ContentFile(CSV.splitlines(keepends=True)[0] + CSV.splitlines(keepends=True)[1]),
        save=False,
    )
    earlier.save()
    import_job_run(job_id=earlier.pk)
    assert Report.objects.filter(external_reference="IMP-1").count() == 1
    job = ImportJob(organisation=organisation, requested_by=supervisor, original_name="a.csv")
    job.file.save("a.csv", ContentFile(CSV), save=False)
    job.status = ImportJob.Status.RUNNING
    job.heartbeat_at = timezone.now()
    job.save()
    fresh = ImportJob.objects.create(
        organisation=organisation,
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now(),
        file=job.file.name,
    )
    with override_settings(JOB_STALE_SECONDS=60):
        assert imports_stalled_fail() == 0  # both alive
        ImportJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - timedelta(seconds=61)
        )
        assert imports_stalled_fail() == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert (job.status, job.failure) == ("failed", WORKER_LOST)
    assert fresh.status == "running"  # its worker is alive: left alone
    assert (
        AuditEvent.objects.get(action="reports.import_finished", subject_id=str(job.pk)).data[
            "after"
        ]["failure"]
        == WORKER_LOST
    )
    page = client_for(supervisor).get(f"/reports/import/{job.pk}/").content.decode()
    assert "The worker running this import stopped" in page and "Try again" in page

    import_retry(job_id=job.pk, user=supervisor)
    job.refresh_from_db()
    assert job.status == "queued" and job.failure == "" and job.processed_rows == 0
    import_job_run(job_id=job.pk)  # as the worker would
    job.refresh_from_db()
    # The rest is stored; what the lost run stored is recognised, not stored twice.
    assert (job.status, job.created_count, job.duplicate_count) == ("done", 1, 1)
    assert Report.objects.filter(external_reference__startswith="IMP-").count() == 2
    assert AuditEvent.objects.filter(action="reports.import_retried").count() == 1


@pytest.mark.django_db
def test_only_a_failed_job_can_be_retried(supervisor, auditor, client_for):
    export = Export.objects.create(requested_by=auditor, format=Export.Format.CSV, status="done")
    response = client_for(auditor).post(f"/audit/exports/{export.pk}/retry/", follow=True)
    assert "Only a failed export can be retried." in response.content.decode()
    assert Export.objects.get(pk=export.pk).status == "done"
    assert not AuditEvent.objects.filter(action="export.retried").exists()
