"""Reads for moderation pages. Writes live in services."""

from __future__ import annotations

from moderation.models import AuditEvent, Decision


def audit_summary() -> dict:
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    return {
        "events": AuditEvent.objects.count(),
        "decisions": Decision.objects.count(),
        "head": head,
    }
