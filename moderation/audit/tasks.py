"""Celery tasks of the audit area (beat): exports whose worker is gone are marked failed."""

from __future__ import annotations

from celery import shared_task

from moderation.audit.services.exports import exports_stalled_fail


@shared_task(name="moderation.exports_stalled_fail", acks_late=True, ignore_result=True)
def exports_stalled() -> int:
    return exports_stalled_fail()
