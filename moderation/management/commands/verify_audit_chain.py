from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from moderation.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; name the first broken link. Exit 1 if broken."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - started
        if report.intact:
            self.stdout.write(
                f"Audit chain intact: {report.events} events verified in {elapsed:.1f} s. "
                f"Head: sequence {report.head_sequence}, hash {report.head_hash}"
            )
            return
        raise CommandError(
            f"Audit chain BROKEN at sequence {report.broken_at}: {report.problem}. "
            f"({report.events} events read in {elapsed:.1f} s.)"
        )
