from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.witness import Witness, serve
from moderation import audit


class Command(BaseCommand):
    help = "Run a witness for the audit log's checkpoints (stands in for another agency's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8026)
        parser.add_argument("--log-key", help="the log's verifier key (default: ours)")
        parser.add_argument(
            "--store",
            default=os.environ.get("WITNESS_STORE", str(Path(settings.DATA_DIR) / "witness")),
            help="its own directory (default: $WITNESS_STORE or .data/witness)",
        )

    def handle(self, *args, **options) -> None:
        try:
            log_key = options["log_key"] or audit.verifier_key()
        except audit.SigningKeyMissing as exc:
            raise CommandError(f"{exc} Or give the log's key with --log-key.") from exc
        witness = Witness(log_key=log_key, store=Path(options["store"]))
        server = serve(witness, options["host"], options["port"])
        self.stdout.write(
            f"Witness on http://{options['host']}:{options['port']}/ for {log_key.split('+')[0]};"
            f" it keeps what it accepts in {options['store']}"
        )
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        server.shutdown()
