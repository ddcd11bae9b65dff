"""Celery task of retention (beat, daily): delete what is past its retention period."""

from __future__ import annotations

from celery import shared_task

from moderation.retention.services import retention_run


@shared_task(name="moderation.retention_run", acks_late=True, ignore_result=True)
def retention_run_task() -> int:
    """Every batch is its own transaction and a rerun finishes what a lost one left, so a
    redelivered message (acks_late) is harmless."""
    result = retention_run()
    return result.evidence_deleted + result.contacts_erased
