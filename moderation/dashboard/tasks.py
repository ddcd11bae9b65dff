"""Keeps the supervisor dashboard's summary fresh (Celery beat, see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from moderation.dashboard.services import dashboard_refresh


@shared_task(name="moderation.dashboard_refresh", acks_late=True, ignore_result=True)
def dashboard_refresh_task() -> str:
    refresh = dashboard_refresh()
    return refresh.refreshed_at.isoformat()
