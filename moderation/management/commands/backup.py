from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a backup as one .tar: a pg_dump of a snapshot of the database, the private "
        "media, the audit log's checkpoint and leaf files, and a manifest with row counts and "
        "the SHA-256 of every file. Not in it: the audit signing key and the deployment's "
        "secrets (back them up with your other secrets)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "destination",
            help="the file to write, or a directory to write saring-<UTC time>.tar in",
        )

    def handle(self, *args: str, **options: Any) -> None:
        try:
            backup = backup_create(destination=Path(options["destination"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = backup.manifest
        files = manifest["files"]
        size = backup.path.stat().st_size
        media = [f for f in files if f["name"].startswith("media/")]
        database = manifest["database"]
        out = self.stdout.write
        out(f"Backup written: {backup.path} ({size / 1e6:,.1f} MB in {backup.seconds:.1f} s)")
        out(
            f"  database {database['name']}: PostgreSQL {database['server_version']}, "
            f"dumped by pg_dump {database['pg_dump_version']} "
            f"({files[0]['size'] / 1e6:,.1f} MB)"
        )
        for label, count in manifest["counts"].items():
            out(f"    {label:<30} {count:>12,}")
        audit = manifest["audit"]
        checkpoint = audit["latest_checkpoint"]
        out(
            f"  audit log: {audit['sealed_size']:,} leaves sealed, root {audit['sealed_root']}; "
            + (
                f"last checkpoint at {checkpoint['size']:,} ({checkpoint['signed_at']})"
                if checkpoint
                else "no checkpoint signed yet"
            )
        )
        out(
            f"  files: {len(media):,} from {manifest['media_root']} "
            f"({sum(f['size'] for f in media) / 1e6:,.1f} MB), "
            f"{len(files) - len(media) - 1} audit file(s); every one's SHA-256 is in manifest.json"
        )
        out("  NOT in this backup: " + "; ".join(manifest["not_included"]) + ".")
        for problem in manifest["evidence_problems"]:
            self.stderr.write(f"  WARNING: {problem}")
