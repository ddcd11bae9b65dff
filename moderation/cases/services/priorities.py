"""Keeping stored priorities up to date as cases age (Celery beat, every 15 minutes)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from moderation.cases.priority import case_score, still_ageing_since
from moderation.models import Case


def case_priorities_refresh(*, batch: int = 2000) -> int:
    """Recompute the stored priority of queued cases whose age still adds points.

    The score is derived data (`moderation.cases.priority`), not a decision, so no audit
    event; only cases young enough for the age part to still grow are read, in id order, a
    batch per transaction. Returns how many scores changed.
    """
    now = timezone.now()
    changed, last_id = 0, 0
    fields = [
        "id",
        "category",
        "source_kinds",
        "reporter_count",
        "urgent",
        "opened_at",
        "returning_from",
        "priority",
    ]
    while True:
        with transaction.atomic():
            cases = list(
                Case.objects.filter(
                    status__in=(Case.Status.OPEN, Case.Status.IN_REVIEW),
                    opened_at__gt=still_ageing_since(now),
                    id__gt=last_id,
                )
                .order_by("id")
                .only(*fields)[:batch]
            )
            if not cases:
                return changed
            last_id = cases[-1].id
            stale = []
            for case in cases:
                score, _parts = case_score(case, now=now)
                if abs(score - case.priority) >= 0.01:
                    case.priority = score
                    stale.append(case)
            Case.objects.bulk_update(stale, ["priority"], batch_size=500)
            changed += len(stale)
