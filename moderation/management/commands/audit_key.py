from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation import audit


class Command(BaseCommand):
    help = "Print the audit log's verifier key; with --create, first make the signing key file."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--create",
            action="store_true",
            help="create AUDIT_SIGNING_KEY_FILE if it does not exist (never overwrites)",
        )

    def handle(self, *args, **options) -> None:
        path = Path(settings.AUDIT_SIGNING_KEY_FILE)
        if options["create"] and not path.exists():
            audit.create_signing_key(path)
            self.stderr.write(
                f"Created the audit signing key {path} (keep it out of backups of the database)."
            )
        try:
            self.stdout.write(audit.verifier_key())
        except audit.SigningKeyMissing as exc:
            raise CommandError(str(exc)) from exc
