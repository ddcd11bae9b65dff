"""Celery tasks of takedowns: delivery, the outbox sweeper and the SLA check. Thin: they take
ids and call the services.

acks_late is global (config/settings.py): a worker killed mid-task leaves its message for
another, and the services make a repeat harmless.
"""

from __future__ import annotations

from celery import shared_task

from moderation.takedowns import services
from moderation.takedowns.services.common import DELIVER_TASK, RESTORE_TASK


@shared_task(name=DELIVER_TASK, ignore_result=True)
def takedown_deliver_task(request_id: str) -> str:
    return services.takedown_deliver(request_id=request_id)


@shared_task(name=RESTORE_TASK, ignore_result=True)
def restore_deliver_task(request_id: str) -> str:
    return services.restore_deliver(request_id=request_id)


@shared_task(name="moderation.takedown_sweep", ignore_result=True)
def takedown_sweep_task() -> int:
    """The outbox sweeper, for both kinds of message to operators."""
    return len(services.takedown_sweep()) + len(services.restore_sweep())


@shared_task(name="moderation.takedown_sla", ignore_result=True)
def takedown_sla_task() -> dict:
    return services.takedown_sla_check()
