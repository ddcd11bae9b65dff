from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.backups import BackupError, backup_restore
from moderation import audit


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the configured database and PRIVATE_MEDIA_ROOT: "
        "check every file's SHA-256 first, refuse a database or media directory that is not "
        "empty unless --force, then compare the row counts and verify the audit log. Connect as "
        "the schema's owner (DATABASE_URL), with the application stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the backup's .tar file")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore over existing data: the backup's tables are dropped and made again; "
            "a file that differs is kept beside under NAME.before-restore-<time>",
        )

    def handle(self, *args: str, **options: Any) -> None:
        out = self.stdout.write
        try:
            restored = backup_restore(
                archive=Path(options["archive"]), force=options["force"], say=out
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        out(f"Restored {restored.files:,} files.")
        for path in restored.moved_aside:
            out(f"  kept the file that was there as {path}")
        out(f"  {'rows':<30} {'in backup':>12} {'restored':>12}")
        for label, expected, got in restored.counts:
            mark = "" if expected == got else "   <-- DIFFERS"
            out(f"  {label:<30} {expected:>12,} {got:>12,}{mark}")
        for problem in restored.evidence_problems:
            self.stderr.write(f"  WARNING: {problem}")
        if not restored.counts_match:
            raise CommandError("The restored row counts differ from the backup's manifest.")
        self._verify_audit_log()

    def _verify_audit_log(self) -> None:
        """audit_verify on the restored log, and against its last signed checkpoint when the
        log's key is at hand (the signing key is not in backups)."""
        report = io.StringIO()
        try:
            call_command("audit_verify", stdout=report)
            checkpoint = audit.latest_checkpoint()
            if checkpoint is None:
                report.write("No signed checkpoint to check against.\n")
            else:
                try:
                    audit.verifier_key()
                except audit.SigningKeyMissing:
                    report.write(
                        "The last checkpoint's signature was not checked: set "
                        "AUDIT_VERIFIER_KEY (or AUDIT_SIGNING_KEY_FILE) and run "
                        "`audit_verify --checkpoint FILE` with a kept checkpoint.\n"
                    )
                else:
                    with tempfile.NamedTemporaryFile("w", suffix=".txt") as note:
                        note.write(checkpoint.note)
                        note.flush()
                        call_command("audit_verify", checkpoint=note.name, stdout=report)
        except CommandError as exc:
            self.stdout.write(report.getvalue())
            raise CommandError(f"Restored, but the audit log does not verify: {exc}") from None
        self.stdout.write(report.getvalue().rstrip())
