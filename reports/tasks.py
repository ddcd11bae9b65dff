"""Celery tasks of intake: bulk imports whose worker is gone are marked failed (beat), and
evidence pictures are hashed and linked (issue 17): each after its upload, and beat's sweeper
for any left without a hash."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from reports.services.imports import imports_stalled_fail
from reports.services.pictures import HASH_TASK, picture_hash_store, pictures_hash_pending

# Beat runs the sweeper every minute: a run stops taking new pictures after this long.
SWEEP_SECONDS = 45.0


@shared_task(name="reports.imports_stalled_fail", acks_late=True, ignore_result=True)
def imports_stalled() -> int:
    return imports_stalled_fail()


@shared_task(name=HASH_TASK, acks_late=True, ignore_result=True)
def hash_evidence_picture(evidence_id: int) -> int:
    """Hash one evidence picture and link it; returns how many links it made."""
    return picture_hash_store(evidence_id).links


@shared_task(name="reports.pictures_hash_pending", acks_late=True, ignore_result=True)
def pictures_hash_pending_sweep() -> int:
    """Hash a small batch of evidence pictures that have no hash yet; returns how many."""
    done = pictures_hash_pending(limit=settings.PDQ_SWEEP_BATCH, seconds=SWEEP_SECONDS)
    return sum(not outcome.skipped for outcome in done)
