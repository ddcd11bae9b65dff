from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from accounts.models import Platform
from devtools.simulator import OperatorSimulator, Switches


def platform_secrets(slug: str) -> tuple[str, str] | None:
    """Read the secrets the operator shares with us. A real operator keeps its own copy; the
    simulator reads ours so that `configure_platform` changes reach it at once."""
    close_old_connections()
    row = (
        Platform.objects.filter(slug=slug).values_list("signing_secret", "callback_secret").first()
    )
    return tuple(row) if row else None


class Command(BaseCommand):
    help = "Run the platform operator simulator (the other end of takedown delivery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--failure-rate", type=float, default=0.0, help="share answered 503")
        parser.add_argument("--rate-429", type=float, default=0.0, help="share answered 429")
        parser.add_argument("--retry-after", type=int, default=1)
        parser.add_argument("--hang-rate", type=float, default=0.0, help="share left hanging")
        parser.add_argument("--hang-seconds", type=float, default=30.0)
        parser.add_argument(
            "--reset-rate", type=float, default=0.0, help="share whose connection is reset"
        )
        parser.add_argument(
            "--acted-503-rate", type=float, default=0.0, help="share acted on, then answered 503"
        )
        parser.add_argument(
            "--acted-reset-rate", type=float, default=0.0, help="share acted on, then reset"
        )
        parser.add_argument(
            "--acted-hang-rate",
            type=float,
            default=0.0,
            help="share acted on, then answered only after --hang-seconds",
        )
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument(
            "--callback-delay",
            type=float,
            default=3.0,
            help="seconds before the outcome callback; negative for none",
        )
        parser.add_argument("--not-found-rate", type=float, default=0.0)
        parser.add_argument("--refuse-rate", type=float, default=0.0)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options) -> None:
        rates = (
            "failure_rate",
            "rate_429",
            "hang_rate",
            "not_found_rate",
            "refuse_rate",
            "reset_rate",
            "acted_503_rate",
            "acted_reset_rate",
            "acted_hang_rate",
        )
        for name in rates:
            if not 0.0 <= options[name] <= 1.0:
                self.stderr.write(f"--{name.replace('_', '-')} must be between 0 and 1")
                raise SystemExit(2)
        logging.getLogger("saring.operator_sim").setLevel(logging.INFO)
        switches = Switches(
            failure_rate=options["failure_rate"],
            rate_429=options["rate_429"],
            retry_after=options["retry_after"],
            hang_rate=options["hang_rate"],
            hang_seconds=options["hang_seconds"],
            reset_rate=options["reset_rate"],
            acted_503_rate=options["acted_503_rate"],
            acted_reset_rate=options["acted_reset_rate"],
            acted_hang_rate=options["acted_hang_rate"],
            latency_ms=options["latency_ms"],
            callback_delay=options["callback_delay"],
            not_found_rate=options["not_found_rate"],
            refuse_rate=options["refuse_rate"],
        )
        simulator = OperatorSimulator(
            platform_secrets,
            host=options["host"],
            port=options["port"],
            switches=switches,
            seed=options["seed"],
            saring_url=settings.SITE_URL,  # where objections are forwarded (POST /_objections)
        )
        self.stdout.write(f"Operator simulator listening on {simulator.url}", ending="\n")
        self.stdout.flush()
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()
