"""Claims whose lease ran out go back to the queue (Celery beat, every minute)."""

from __future__ import annotations

from celery import shared_task

from moderation.services.cases import case_claims_expire, case_priorities_refresh


@shared_task(acks_late=True, ignore_result=True)
def claims_expire() -> int:
    expired = 0
    while True:  # in batches, each its own transaction, until none is left
        batch = case_claims_expire()
        expired += batch
        if batch == 0:
            return expired


@shared_task(acks_late=True, ignore_result=True)
def priorities_refresh() -> int:
    return case_priorities_refresh()
