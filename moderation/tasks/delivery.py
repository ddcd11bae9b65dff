"""Celery tasks for takedown delivery. Thin: they take ids and call the services.

acks_late is global (config/settings.py): a worker killed mid-task leaves its message for
another, and the services make a repeat harmless.
"""

from __future__ import annotations

from celery import shared_task

from moderation.services import takedowns


@shared_task(name="moderation.takedown_deliver", ignore_result=True)
def takedown_deliver_task(request_id: str) -> str:
    return takedowns.takedown_deliver(request_id=request_id)


@shared_task(name="moderation.takedown_sweep", ignore_result=True)
def takedown_sweep_task() -> int:
    return len(takedowns.takedown_sweep())


@shared_task(name="moderation.takedown_sla", ignore_result=True)
def takedown_sla_task() -> dict:
    return takedowns.takedown_sla_check()
