"""Delete what is past its retention period now (what the daily beat task does), or with
--dry-run only list it. README "Retention"."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from moderation.retention import retention_due, retention_run


class Command(BaseCommand):
    help = (
        "Delete evidence files and public reporters' contact details, and objecting owners' "
        "pictures and contact details, past their retention period (cases under a legal hold "
        "are kept). --dry-run lists what is due instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what is due; change nothing"
        )
        parser.add_argument("--batch-size", type=int, help="rows per batch (RETENTION_BATCH_SIZE)")

    def handle(self, *args, **options) -> None:
        if options["dry_run"]:
            self._list_due()
            return
        result = retention_run(batch_size=options["batch_size"])
        self.stdout.write(
            f"Deleted {result.evidence_deleted} evidence files and erased the contact details "
            f"of {result.contacts_erased} reports; deleted {result.objection_pictures_deleted} "
            f"objection pictures and erased the contact details of "
            f"{result.objection_contacts_erased} objections; in {len(result.batches)} batches"
            + (f" (audit events {', '.join(map(str, result.batches))})" if result.batches else "")
            + "."
        )
        if result.leftover_files_removed:
            self.stdout.write(
                f"Removed {result.leftover_files_removed} files an interrupted run had left."
            )

    def _list_due(self) -> None:
        due = retention_due()
        self.stdout.write(
            f"Due now ({due.now:%Y-%m-%d %H:%M} UTC): evidence of cases closed more than "
            f"{settings.RETENTION_EVIDENCE_DAYS} days ago, contact details of cases closed more "
            f"than {settings.RETENTION_REPORTER_CONTACT_DAYS} days ago, no legal hold."
        )
        self.stdout.write(f"Evidence files: {len(due.evidence)}")
        for row in due.evidence:
            self.stdout.write(
                f"  evidence {row['id']} sha256 {row['sha256']} case {row['case_id']}"
                f" closed {row['closed_at']:%Y-%m-%d}"
            )
        self.stdout.write(f"Reports with contact details: {len(due.contacts)}")
        for row in due.contacts:
            self.stdout.write(
                f"  report {row['id']} case {row['case_id']} closed {row['closed_at']:%Y-%m-%d}"
            )
        self.stdout.write(
            f"Objection pictures (objections decided more than "
            f"{settings.RETENTION_EVIDENCE_DAYS} days ago): {len(due.objection_pictures)}"
        )
        for row in due.objection_pictures:
            self.stdout.write(
                f"  picture {row['id']} sha256 {row['sha256']} objection {row['objection_id']}"
                f" case {row['case_id']} decided {row['decided_at']:%Y-%m-%d}"
            )
        self.stdout.write(
            f"Objections with contact details (decided more than "
            f"{settings.RETENTION_REPORTER_CONTACT_DAYS} days ago): {len(due.objection_contacts)}"
        )
        for row in due.objection_contacts:
            self.stdout.write(
                f"  objection {row['id']} case {row['case_id']}"
                f" decided {row['decided_at']:%Y-%m-%d}"
            )
        self.stdout.write("Dry run: nothing was deleted.")
