"""Reads for moderation pages. Writes live in services."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from moderation.models import AuditEvent, Case, Decision, TakedownRequest


def case_queue_first_page(*, limit: int = 50) -> QuerySet[Case]:
    """Open cases, most important first (the queue page grows filters and keysets later)."""
    return (
        Case.objects.filter(status__in=[Case.Status.OPEN, Case.Status.IN_REVIEW])
        .select_related("account__platform", "claimed_by")
        .order_by("-priority", "id")[:limit]
    )


def case_counts() -> dict[str, int]:
    return Case.objects.aggregate(
        open=Count("id", filter=Q(status=Case.Status.OPEN)),
        in_review=Count("id", filter=Q(status=Case.Status.IN_REVIEW)),
        escalated=Count("id", filter=Q(status=Case.Status.ESCALATED)),
        proposed=Count("id", filter=Q(status=Case.Status.PROPOSED)),
    )


def takedown_counts() -> dict[str, int]:
    now = timezone.now()
    return TakedownRequest.objects.aggregate(
        in_flight=Count(
            "id",
            filter=Q(status__in=["pending", "sent", "acknowledged"]),
        ),
        overdue=Count(
            "id",
            filter=Q(status__in=["pending", "sent", "acknowledged", "failed"], deadline__lt=now),
        ),
        failed=Count("id", filter=Q(status="failed")),
    )


def audit_summary() -> dict:
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    return {
        "events": AuditEvent.objects.count(),
        "decisions": Decision.objects.count(),
        "head": head,
    }
