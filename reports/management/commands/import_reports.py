from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from reports.models import ImportJob, SourceOrganisation
from reports.services.imports import import_job_create, import_job_run


class Command(BaseCommand):
    help = (
        "Import a CSV of reports for a source organisation. Runs the import job here and "
        "prints its result; --enqueue hands it to the RQ worker instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--organisation", required=True, help="the organisation's slug")
        parser.add_argument("--enqueue", action="store_true", help="run on the RQ worker")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        organisation = SourceOrganisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            known = ", ".join(SourceOrganisation.objects.values_list("slug", flat=True))
            raise CommandError(f"No organisation {options['organisation']!r}. Known: {known}")
        with path.open("rb") as handle:
            job = import_job_create(
                organisation=organisation,
                file=File(handle, name=path.name),
                enqueue=options["enqueue"],
            )
        if options["enqueue"]:
            self.stdout.write(f"Import job {job.pk} queued for the RQ worker.")
            return
        job = import_job_run(job_id=job.pk) or job
        self.stdout.write(
            f"Import job {job.pk}: {job.get_status_display()}. Rows {job.total_rows or 0}: "
            f"{job.created_count} created, {job.duplicate_count} already imported, "
            f"{job.conflict_count} conflicting, {job.error_count} with errors."
        )
        if job.failure:
            self.stdout.write(job.failure)
        for entry in job.errors[:50]:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in entry["errors"].items())
            self.stdout.write(f"  row {entry['row']}: {problems}")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError("The import failed.")
