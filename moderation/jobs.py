"""django-rq jobs: long work a person starts and watches (DESIGN.md "Queues").

Jobs take ids and call a service; the service does the work and writes the audit trail.
"""

from __future__ import annotations


def export_job(export_id: int) -> int | None:
    """Write one export's file; returns its row count."""
    from moderation.services.exports import export_run

    return export_run(export_id=export_id).rows
