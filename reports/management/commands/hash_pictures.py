from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from reports.services.pictures import pictures_hash_pending, pictures_pending


class Command(BaseCommand):
    help = (
        "Hash every evidence picture that has no PDQ hash yet (evidence stored before hashing "
        "existed, or whose task was lost) and link it to the pictures it matches. Safe to run "
        "beside the workers and to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch", type=int, default=200, help="pictures per progress line (default 200)"
        )

    def handle(self, *args, **options) -> None:
        batch = options["batch"]
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        total = pictures_pending().count()
        self.stdout.write(f"{total:,} evidence pictures to hash.")
        started = time.monotonic()
        hashed = links = passed = last = 0
        while done := pictures_hash_pending(limit=batch, after=last):
            last = max(outcome.evidence_id for outcome in done)
            hashed += sum(not outcome.skipped for outcome in done)
            passed += sum(bool(outcome.skipped) for outcome in done)
            links += sum(outcome.links for outcome in done)
            rate = hashed / max(time.monotonic() - started, 1e-6)
            self.stdout.write(
                f"hashed {hashed:,} of {total:,}, {links:,} links, {passed:,} passed over "
                f"({rate:.1f} pictures/s)"
            )
        self.stdout.write(
            f"Done: {hashed:,} pictures hashed, {links:,} links, {passed:,} passed over "
            "(unreadable, or hashed meanwhile by a worker)."
        )
