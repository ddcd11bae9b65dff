from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation import audit


class Command(BaseCommand):
    help = (
        "Seal new audit events as leaves of the Merkle tree and sign checkpoints while it "
        "grows (its own process; run exactly one)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, **options) -> None:
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
        try:
            key = audit.verifier_key()
        except audit.SigningKeyMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Audit sequencer: checkpoints signed by {key}\n"
            f"  written to {settings.AUDIT_CHECKPOINT_FILE}\n"
            f"  sent to {settings.AUDIT_WITNESS_URL or '(no witness configured)'}"
        )
        audit.run_sequencer(once=options["once"], stop=lambda: bool(stopping))
