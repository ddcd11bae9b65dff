"""Recompute every ring now (what Celery beat does every RING_REBUILD_SECONDS) and say what
was found. README "Rings"."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from moderation.rings import rings_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the rings of reported accounts (shared phone numbers, pictures and profile "
        "addresses) and replace the stored ones."
    )

    def handle(self, *args, **options) -> None:
        result = rings_rebuild()
        edges = ", ".join(f"{kind} {count}" for kind, count in sorted(result.edges.items()))
        timings = ", ".join(f"{part} {seconds:.3f} s" for part, seconds in result.timings.items())
        self.stdout.write(
            f"{result.rings} rings of {result.accounts} accounts (largest {result.largest}); "
            f"links: {edges}; stock pictures {result.stock_pictures}, stock numbers or "
            f"profile addresses {result.stock_values}; {result.seconds:.3f} s ({timings})."
        )
