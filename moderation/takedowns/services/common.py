"""What the takedown services share: their audit batching, states, errors and the steps
that several of them take (queueing a delivery, moving a case or an account, ending a request).

Internal to moderation.takedowns.services: other areas use the package's public face."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from accounts.models import ChatAccount
from moderation.audit import Actor, AuditEntry, audit_record, audit_record_many
from moderation.models import (
    Case,
    RestoreRequest,
    TakedownRequest,
)

_batch_var: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "takedown_audit_batch", default=None
)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Hold this block's audit events and write them at its end in one INSERT, still inside
    the caller's transaction (one round trip instead of one per event)."""
    events: list[dict[str, Any]] = []
    token = _batch_var.set(events)
    try:
        yield
        audit_record_many(entries=[AuditEntry(**event) for event in events])
    finally:
        _batch_var.reset(token)


def audit_later(**event: Any) -> None:
    """Record an audit event now, or at the end of the enclosing `audit_batch`."""
    batch = _batch_var.get()
    if batch is None:
        audit_record(**event)
    else:
        batch.append(event)


logger = logging.getLogger("saring.takedowns")

DEADLINE = timedelta(hours=24)
URGENT_DEADLINE = timedelta(hours=4)

Status = TakedownRequest.Status
UNCONFIRMED = TakedownRequest.UNCONFIRMED
CANCELLABLE = TakedownRequest.CANCELLABLE
FINAL = TakedownRequest.FINAL
# A queued message may reach the worker a little before the row's next_attempt_at.
DUE_TOLERANCE = timedelta(milliseconds=200)


class ApprovalRefused(Exception):
    """The proposal cannot be approved or rejected; the message says why, for a person."""


class TakedownActionRefused(Exception):
    """A retry or cancel that does not fit the request's state."""


# The Celery task that delivers one request, by name: the service queues it without
# importing the tasks module (which imports the services).
DELIVER_TASK = "moderation.takedown_deliver"
RESTORE_TASK = "moderation.restore_deliver"


def enqueue_delivery(
    request_id: str, *, countdown: float | None = None, task: str = DELIVER_TASK
) -> bool:
    """Queue the delivery task; a broker outage is logged, never raised (the sweeper retries).

    The connection gets one quick retry, not kombu's default back-off of several seconds:
    a supervisor's approval must not hang while Redis is away."""
    from config.celery import app

    try:
        with app.pool.acquire(block=True, timeout=2) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0.1, timeout=2)
            app.send_task(
                task,
                args=[str(request_id)],
                countdown=countdown,
                retry=False,
                connection=connection,
            )
    except Exception:  # noqa: BLE001 - any broker failure: the outbox row is safe
        logger.warning(
            "could not queue %s of %s; the sweeper will pick it up",
            task,
            request_id,
            exc_info=True,
        )
        return False
    return True


def case_set_status(
    *,
    case: Case,
    status: str,
    actor: Actor | None = None,
    ip: str | None = None,
    audit: bool = True,
) -> dict:
    """Change the case's status; audited here unless the caller records it in its own event."""
    before = case.status
    case.status = status
    case.version = F("version") + 1
    fields = ["status", "version", "updated_at"]
    if status == Case.Status.OPEN:
        case.claimed_by = None
        case.claim_expires_at = None
        fields += ["claimed_by", "claim_expires_at"]
    if status == Case.Status.CLOSED:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    case.save(update_fields=fields)
    case.refresh_from_db(fields=["version"])
    change = {"before": {"status": before}, "after": {"status": status}}
    if audit:
        audit_later(
            actor=actor, action="case.status_changed", subject=case, data=change, ip_address=ip
        )
    return change


def account_set_status(
    *,
    account: ChatAccount,
    status: str,
    actor: Actor | None = None,
    ip: str | None = None,
    audit: bool = True,
) -> dict:
    before = account.status
    change = {"before": {"status": before}, "after": {"status": status}}
    if before == status:
        return change
    account.status = status
    account.save(update_fields=["status", "updated_at"])
    if audit:
        audit_later(
            actor=actor,
            action="account.status_changed",
            subject=account,
            data=change,
            ip_address=ip,
        )
    return change


def request_ended(
    *, request: TakedownRequest, outcome: str, actor: Actor, ip: str | None = None
) -> None:
    """The takedown is over: set the account's status to fit and close the approved case."""
    account = ChatAccount.objects.select_for_update().get(pk=request.account_id)
    account_status: str = {
        Status.TAKEN_DOWN: ChatAccount.Status.TAKEN_DOWN,
        # The account is still there and still reported: back to review.
        Status.REFUSED: ChatAccount.Status.UNDER_REVIEW,
        Status.CANCELLED: ChatAccount.Status.UNDER_REVIEW,
        # The operator knows no such account: nothing is pending against it any more.
        Status.NOT_FOUND: ChatAccount.Status.ACTIVE,
    }[Status(outcome)]
    account_set_status(account=account, status=account_status, actor=actor, ip=ip)
    case = Case.objects.select_for_update().get(pk=request.case_id)
    if case.status == Case.Status.APPROVED:
        case_set_status(case=case, status=Case.Status.CLOSED, actor=actor, ip=ip)


def restore_ended(
    *, request: RestoreRequest, outcome: str, actor: Actor, ip: str | None = None
) -> None:
    """The restore request is over. Restored: the account is back on its platform, cleared
    by the objection's decision. Otherwise (refused, not found, cancelled) it stays as it was,
    and the restore request's page says why."""
    if outcome != RestoreRequest.Status.RESTORED:
        return
    account = ChatAccount.objects.select_for_update().get(pk=request.account_id)
    account_set_status(account=account, status=ChatAccount.Status.CLEARED, actor=actor, ip=ip)
