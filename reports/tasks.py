"""django-rq jobs of intake: long jobs a person starts and watches (DESIGN.md "Queues")."""

from __future__ import annotations


def import_job_run_task(job_id: int) -> None:
    from reports.services.imports import import_job_run

    import_job_run(job_id=job_id)
