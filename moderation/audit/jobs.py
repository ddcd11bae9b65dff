"""django-rq jobs of the audit area: long work a person starts and watches (DESIGN.md
"Queues"). Jobs take ids and call a service; the service does the work and writes the audit
trail.
"""

from __future__ import annotations

from typing import Any

from moderation.audit.services.checkpoints import log_verify_note
from moderation.audit.services.exports import export_run


def export_job(export_id: int) -> int | None:
    """Write one export's file; returns its row count."""
    return export_run(export_id=export_id).rows


def verify_job(checkpoint_note: str | None) -> dict[str, Any]:
    """Recompute the whole audit log (against a kept checkpoint when given)."""
    return log_verify_note(checkpoint_note)
