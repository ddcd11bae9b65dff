"""django-rq jobs of intake: long jobs a person starts and watches (DESIGN.md "Queues").

Jobs take ids and call a service; the service does the work and writes the audit trail.
"""

from __future__ import annotations

from reports.services.imports import import_job_run


def import_job(job_id: int) -> None:
    """Import one uploaded CSV file."""
    import_job_run(job_id=job_id)
