"""Supervisors' retry and cancel, and the SLA check (overdue and the warning ladder)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.roles import Role, has_role
from moderation.audit import Actor
from moderation.models import (
    RestoreRequest,
    TakedownRequest,
)
from moderation.takedowns.selectors import overdue_filter
from moderation.takedowns.services.common import (
    Status,
    TakedownActionRefused,
    audit_batch,
    audit_later,
    enqueue_delivery,
)
from moderation.takedowns.services.delivery import RESTORES, TAKEDOWNS, Outbox

# --- supervisors' retry and cancel --------------------------------------------------------
# One rule for both outboxes (takedown requests and restore requests); the public functions
# only say who may do it and in whose words.


def takedown_retry(
    *, request_id: UUID | str, supervisor: User, ip_address: str | None = None
) -> TakedownRequest:
    """A dead letter gets a fresh round of attempts, starting now."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may retry a takedown request."))
    return _retry(TAKEDOWNS, request_id=request_id, supervisor=supervisor, ip_address=ip_address)


def restore_retry(
    *, request_id: UUID | str, supervisor: User, ip_address: str | None = None
) -> RestoreRequest:
    """A failed restore request gets a fresh round of attempts, as takedown_retry."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may retry a restore request."))
    return _retry(RESTORES, request_id=request_id, supervisor=supervisor, ip_address=ip_address)


def takedown_cancel(
    *, request_id: UUID | str, supervisor: User, reason: str = "", ip_address: str | None = None
) -> TakedownRequest:
    """Withdraw a request the operator has not acknowledged. One being sent right now cannot
    be withdrawn (the operator may be acting on it): try again when the attempt ends."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may cancel a takedown request."))
    return _cancel(
        TAKEDOWNS,
        request_id=request_id,
        supervisor=supervisor,
        reason=reason,
        ip_address=ip_address,
        missing=_("There is no such takedown request."),
    )


def restore_cancel(
    *, request_id: UUID | str, supervisor: User, reason: str = "", ip_address: str | None = None
) -> RestoreRequest:
    """Withdraw a restore request the operator has not acknowledged (as takedown_cancel). The
    objection stays granted; the account stays as it is."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may cancel a restore request."))
    return _cancel(
        RESTORES,
        request_id=request_id,
        supervisor=supervisor,
        reason=reason,
        ip_address=ip_address,
        missing=_("There is no such restore request."),
    )


def _retry(
    outbox: Outbox, *, request_id: UUID | str, supervisor: User, ip_address: str | None
) -> Any:
    now = timezone.now()
    with transaction.atomic(), audit_batch():
        moved = outbox.model.objects.filter(pk=request_id, status=Status.FAILED).update(
            status=Status.PENDING,
            next_attempt_at=now,
            updated_at=now,
            failures=0,
            throttled_since=None,
        )
        if not moved:
            raise TakedownActionRefused(_("Only a failed request can be retried."))
        request = outbox.model.objects.get(pk=request_id)
        audit_later(
            actor=Actor.staff(supervisor),
            action=f"{outbox.kind}.retried",
            subject=request,
            data={"before": {"status": Status.FAILED}, "after": {"status": Status.PENDING}},
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: enqueue_delivery(str(request.pk), task=outbox.task))
    return request


def _cancel(
    outbox: Outbox,
    *,
    request_id: UUID | str,
    supervisor: User,
    reason: str,
    ip_address: str | None,
    missing: str,
) -> Any:
    now = timezone.now()
    with transaction.atomic(), audit_batch():
        request = outbox.model.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise TakedownActionRefused(missing)
        if request.status == Status.SENT:
            raise TakedownActionRefused(
                _("The request is being delivered right now; try again in a moment.")
            )
        if request.status not in outbox.model.CANCELLABLE:
            raise TakedownActionRefused(
                _("Only a request the operator has not acknowledged can be cancelled.")
            )
        before = request.status
        request.status = Status.CANCELLED
        request.resolved_at = now
        request.next_attempt_at = None
        request.save(update_fields=["status", "resolved_at", "next_attempt_at", "updated_at"])
        actor = Actor.staff(supervisor)
        audit_later(
            actor=actor,
            action=f"{outbox.kind}.cancelled",
            subject=request,
            data={
                "reason": reason.strip()[:2000],
                "before": {"status": before},
                "after": {"status": Status.CANCELLED},
            },
            ip_address=ip_address,
        )
        outbox.ended(request=request, outcome=Status.CANCELLED, actor=actor, ip=ip_address)
    return request


# --- SLA: overdue and the warning ladder ------------------------------------------------------


def warning_thresholds() -> list[tuple[int, timedelta]]:
    """(level, time past the deadline) for each step of the ladder, from settings."""
    hours = settings.TAKEDOWN_WARNING_AFTER_HOURS
    return [(level, timedelta(hours=h)) for level, h in zip((1, 2, 3), hours, strict=True)]


def takedown_sla_check(*, limit: int = 1000) -> dict[str, int]:
    """Mark requests overdue and climb the warning ladder; one audit event per step."""
    now = timezone.now()
    marked = warned = 0
    with transaction.atomic(), audit_batch():
        rows = list(
            TakedownRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("platform")
            .filter(overdue_filter(now))
            .filter(Q(overdue_at__isnull=True) | Q(warning_level__lt=3))
            .order_by("deadline")[:limit]
        )
        for request in rows:
            actor = Actor.system("sla")
            if request.overdue_at is None:
                request.overdue_at = now
                request.save(update_fields=["overdue_at", "updated_at"])
                audit_later(
                    actor=actor,
                    action="takedown.overdue",
                    subject=request,
                    data={"deadline": request.deadline, "platform": request.platform.slug},
                )
                marked += 1
            late = now - request.deadline
            for level, after in warning_thresholds():
                if request.warning_level < level and late >= after:
                    before = request.warning_level
                    request.warning_level = level
                    request.save(update_fields=["warning_level", "updated_at"])
                    audit_later(
                        actor=actor,
                        action="takedown.warning",
                        subject=request,
                        data={
                            "level": level,
                            "label": str(TakedownRequest.Warning(level).label),
                            "platform": request.platform.slug,
                            "hours_late": round(late.total_seconds() / 3600, 2),
                            "before": {"warning_level": before},
                            "after": {"warning_level": level},
                        },
                    )
                    warned += 1
    return {"overdue": marked, "warnings": warned}
