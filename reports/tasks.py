"""Celery tasks of intake (beat): bulk imports whose worker is gone are marked failed."""

from __future__ import annotations

from celery import shared_task

from reports.services.imports import imports_stalled_fail


@shared_task(name="reports.imports_stalled_fail", acks_late=True, ignore_result=True)
def imports_stalled() -> int:
    return imports_stalled_fail()
