"""Restore requests ("normalisasi", issue 18): the outbox row of a granted objection.

The objections area calls `restore_request_create` inside the transaction that grants the
objection; delivery, retries, the sweeper and the operator's callback are the takedowns'
own machinery (delivery.RESTORES, callbacks._restore_callback)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from moderation.audit import Actor
from moderation.models import Objection, RestoreRequest
from moderation.takedowns.services.common import (
    RESTORE_TASK,
    Status,
    audit_later,
    enqueue_delivery,
)


def restore_request_create(
    *, objection: Objection, actor: Actor, ip_address: str | None = None
) -> RestoreRequest:
    """Write the restore request in the caller's transaction (which must be open) and queue
    its delivery once that transaction commits. A Redis outage only delays it: the sweeper
    finds the pending row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("restore_request_create belongs inside the granting transaction")
    takedown = objection.takedown
    request = RestoreRequest.objects.create(
        objection=objection,
        takedown=takedown,
        platform_id=takedown.platform_id,
        account_id=takedown.account_id,
        reason=objection.reason,
        issued_at=timezone.now(),
        status=Status.PENDING,
    )
    audit_later(
        actor=actor,
        action="restore.requested",
        subject=request,
        data={
            "objection": objection.receipt_code,
            "takedown": str(takedown.pk),
            "after": {"status": Status.PENDING},
        },
        ip_address=ip_address,
    )
    transaction.on_commit(lambda: enqueue_delivery(str(request.pk), task=RESTORE_TASK))
    return request
