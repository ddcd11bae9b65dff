"""The operator's signed callback with the outcome of a request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts import signing
from accounts.models import Platform
from moderation.audit import Actor
from moderation.models import (
    RestoreRequest,
    TakedownRequest,
)
from moderation.takedowns.services.common import (
    FINAL,
    Status,
    audit_batch,
    audit_later,
    request_ended,
    restore_ended,
)

# --- operator callbacks ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackResult:
    http_status: int
    body: dict
    # What happened, for the metrics: the outcome applied, "replay", or why it was rejected.
    result: str


CALLBACK_OUTCOMES = (Status.TAKEN_DOWN, Status.NOT_FOUND, Status.REFUSED)
# A restore request's outcomes (docs/objections.md): the same words, `restored` for done.
RESTORE_OUTCOMES = (RestoreRequest.Status.RESTORED, Status.NOT_FOUND, Status.REFUSED)


def takedown_callback(
    *, platform_slug: str, headers: Mapping[str, str], body: bytes, ip_address: str | None = None
) -> CallbackResult:
    """An operator's signed outcome. Anything not genuine and fresh changes nothing."""
    platform = Platform.objects.filter(slug=platform_slug).first()
    if platform is None:
        return CallbackResult(404, {"error": "unknown platform"}, "unknown_platform")
    problem = signing.verify(
        platform.callback_secret,
        timestamp=headers.get(signing.TIMESTAMP_HEADER),
        signature=headers.get(signing.SIGNATURE_HEADER),
        body=body,
    )
    if problem:
        return CallbackResult(401, {"error": problem}, "bad_signature")
    if not platform.active:  # deactivated: its secrets may be why; nothing it says counts
        return CallbackResult(403, {"error": "the platform is deactivated"}, "platform_inactive")
    try:
        payload = json.loads(body)
    except ValueError:
        return CallbackResult(400, {"error": "the body is not JSON"}, "invalid")
    if not isinstance(payload, dict):
        return CallbackResult(400, {"error": "the body must be a JSON object"}, "invalid")
    errors = {}
    try:
        request_id = uuid.UUID(str(payload.get("request_id")))
    except ValueError:
        errors["request_id"] = "must be the request's UUID"
    status = payload.get("status")
    outcome = status if isinstance(status, str) else ""
    if outcome not in (*CALLBACK_OUTCOMES, RestoreRequest.Status.RESTORED):
        errors["status"] = (
            f"must be one of {', '.join(CALLBACK_OUTCOMES)} (takedown requests) or "
            f"{', '.join(RESTORE_OUTCOMES)} (restore requests)"
        )
    reason = payload.get("reason") or ""
    if not isinstance(reason, str):
        errors["reason"] = "must be a string"
    if errors:
        return CallbackResult(400, {"error": "invalid callback", "fields": errors}, "invalid")
    with transaction.atomic(), audit_batch():
        request = (
            TakedownRequest.objects.select_for_update()
            .filter(pk=request_id, platform=platform)
            .first()
        )
        if request is None:
            restore = (
                RestoreRequest.objects.select_for_update()
                .filter(pk=request_id, platform=platform)
                .first()
            )
            if restore is None:
                return CallbackResult(
                    404, {"error": "unknown request_id for this platform"}, "unknown_request"
                )
            return _restore_callback(
                restore=restore, outcome=outcome, reason=reason, payload=payload, ip=ip_address
            )
        if outcome not in CALLBACK_OUTCOMES:
            return CallbackResult(
                400,
                {
                    "error": "invalid callback",
                    "fields": {
                        "status": f"a takedown request's outcome is one of "
                        f"{', '.join(CALLBACK_OUTCOMES)}"
                    },
                },
                "invalid",
            )
        current = {"request_id": str(request.pk), "status": request.status}
        if request.status in FINAL:
            # A replay, or an outcome after a cancel: acknowledged, changes nothing.
            return CallbackResult(200, current | {"changed": False}, "replay")
        before = request.status
        now = timezone.now()
        request.status = outcome
        request.resolved_at = now
        request.acknowledged_at = request.acknowledged_at or now
        request.next_attempt_at = None
        request.last_error = reason[:2000] if outcome != Status.TAKEN_DOWN else ""
        request.save(
            update_fields=[
                "status",
                "resolved_at",
                "acknowledged_at",
                "next_attempt_at",
                "last_error",
                "updated_at",
            ]
        )
        actor = Actor.operator(platform)
        audit_later(
            actor=actor,
            action=f"takedown.{outcome}",
            subject=request,
            data={
                "reason": reason[:2000],
                "actioned_at": str(payload.get("actioned_at") or "")[:64],
                "before": {"status": before},
                "after": {"status": outcome},
            },
            ip_address=ip_address,
        )
        request_ended(request=request, outcome=outcome, actor=actor, ip=ip_address)
    return CallbackResult(
        200, {"request_id": str(request.pk), "status": outcome, "changed": True}, outcome
    )


def _restore_callback(
    *, restore: RestoreRequest, outcome: str, reason: str, payload: dict, ip: str | None
) -> CallbackResult:
    """The operator's outcome of a restore request (docs/objections.md), inside the caller's
    transaction with the row locked."""
    if outcome not in RESTORE_OUTCOMES:
        return CallbackResult(
            400,
            {
                "error": "invalid callback",
                "fields": {
                    "status": f"a restore request's outcome is one of {', '.join(RESTORE_OUTCOMES)}"
                },
            },
            "invalid",
        )
    if restore.status in RestoreRequest.FINAL:
        current = {"request_id": str(restore.pk), "status": restore.status}
        return CallbackResult(200, current | {"changed": False}, "replay")
    before = restore.status
    now = timezone.now()
    restore.status = outcome
    restore.resolved_at = now
    restore.acknowledged_at = restore.acknowledged_at or now
    restore.next_attempt_at = None
    restore.last_error = reason[:2000] if outcome != RestoreRequest.Status.RESTORED else ""
    restore.save(
        update_fields=[
            "status",
            "resolved_at",
            "acknowledged_at",
            "next_attempt_at",
            "last_error",
            "updated_at",
        ]
    )
    actor = Actor.operator(restore.platform)
    audit_later(
        actor=actor,
        action=f"restore.{outcome}",
        subject=restore,
        data={
            "reason": reason[:2000],
            "actioned_at": str(payload.get("actioned_at") or "")[:64],
            "objection": restore.objection_id,
            "before": {"status": before},
            "after": {"status": outcome},
        },
        ip_address=ip,
    )
    restore_ended(request=restore, outcome=outcome, actor=actor, ip=ip)
    return CallbackResult(
        200,
        {"request_id": str(restore.pk), "status": outcome, "changed": True},
        f"restore_{outcome}",
    )
