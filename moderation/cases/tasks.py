"""Celery tasks of cases (beat): expired claims go back to the queue; stored priorities keep
up with the cases' age."""

from __future__ import annotations

from celery import shared_task

from moderation.cases.services import case_claims_expire, case_priorities_refresh


@shared_task(name="moderation.claims_expire", acks_late=True, ignore_result=True)
def claims_expire() -> int:
    expired = 0
    while True:  # in batches, each its own transaction, until none is left
        batch = case_claims_expire()
        expired += batch
        if batch == 0:
            return expired


@shared_task(name="moderation.priorities_refresh", acks_late=True, ignore_result=True)
def priorities_refresh() -> int:
    return case_priorities_refresh()
