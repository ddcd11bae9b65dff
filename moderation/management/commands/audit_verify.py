from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from moderation import audit
from verifier import saring_verify


class Command(BaseCommand):
    help = (
        "Recompute every leaf of the audit log from its event and the tree from the leaves. "
        "With --checkpoint FILE (a signed checkpoint someone kept), prove the log still "
        "extends it, or name the first leaf that differs. Exit 1 if anything does not hold."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--checkpoint", help="a signed checkpoint (c2sp.org/tlog-checkpoint)")
        parser.add_argument(
            "--key", help="the log's verifier key (default: the one AUDIT_SIGNING_KEY_FILE makes)"
        )

    def handle(self, *args, **options) -> None:
        checkpoint = None
        if options["checkpoint"]:
            try:
                key = options["key"] or audit.verifier_key()
                note = Path(options["checkpoint"]).read_text(encoding="utf-8")
                checkpoint = saring_verify.open_checkpoint(note, key)
            except (OSError, UnicodeDecodeError, saring_verify.BadNote) as exc:
                raise CommandError(f"The checkpoint cannot be used: {exc}") from exc
            except audit.SigningKeyMissing as exc:
                raise CommandError(f"{exc} Or give the log's key with --key.") from exc
        report = audit.log_verify(checkpoint)
        rate = report.leaves / report.seconds if report.seconds else 0.0
        if not report.intact:
            raise CommandError(
                f"Audit log BROKEN at leaf {report.bad_leaf}: {report.problem}. "
                f"({report.leaves} leaves read in {report.seconds:.1f} s.)"
            )
        self.stdout.write(
            f"Audit log intact: {report.leaves} leaves verified in {report.seconds:.2f} s "
            f"({rate:,.0f} events/s). Root {report.root_hex}"
        )
        if checkpoint is not None:
            self.stdout.write(
                f"It extends the checkpoint at tree size {checkpoint.size}: nothing sealed "
                "before it was changed, removed or reordered."
            )
