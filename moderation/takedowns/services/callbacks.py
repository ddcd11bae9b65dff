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
    TakedownRequest,
)
from moderation.takedowns.services.common import (
    FINAL,
    Status,
    audit_batch,
    audit_later,
    request_ended,
)

# --- operator callbacks ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackResult:
    http_status: int
    body: dict
    # What happened, for the metrics: the outcome applied, "replay", or why it was rejected.
    result: str


CALLBACK_OUTCOMES = (Status.TAKEN_DOWN, Status.NOT_FOUND, Status.REFUSED)


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
    if outcome not in CALLBACK_OUTCOMES:
        errors["status"] = f"must be one of {', '.join(CALLBACK_OUTCOMES)}"
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
            return CallbackResult(
                404, {"error": "unknown request_id for this platform"}, "unknown_request"
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
