"""Rewrites the dashboard's summary (see moderation/dashboard/selectors.py).

The summary is a cache of figures that can always be recomputed from the records: it is not
a change of state of anything a person acts on, so it writes no audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from moderation.dashboard.selectors import (
    SUMMARY_DAYS,
    WINDOWS,
    medians_compute,
    objection_snapshot,
    open_cases_compute,
    raw_daily_counts,
    wib_day_start,
    wib_today,
)
from moderation.models import DashboardDaily, DashboardRefresh

# Any fixed 64-bit number: two refreshes at once would otherwise both rewrite the table.
DASHBOARD_REFRESH_LOCK = 0x5A52_1D45_4842


def dashboard_refresh(*, now: datetime | None = None) -> DashboardRefresh:
    """Recount the last SUMMARY_DAYS WIB days up to `now` and store them, with the medians
    and the objection counts of every window and the open cases by category and age,
    replacing the previous summary in one transaction."""
    now = now or timezone.now()
    window_start = wib_today(now) - timedelta(days=SUMMARY_DAYS - 1)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DASHBOARD_REFRESH_LOCK])
        counts = raw_daily_counts(since=wib_day_start(window_start), until=now)
        snapshot = {
            "medians": {
                str(days): medians_compute(
                    since=wib_day_start(wib_today(now) - timedelta(days=days - 1))
                )
                for days in WINDOWS
            },
            "open_cases": open_cases_compute(now=now),
            "objections": objection_snapshot(now=now),
        }
        DashboardDaily.objects.all().delete()
        DashboardDaily.objects.bulk_create(
            DashboardDaily(metric=metric, day=day, key=key, value=value)
            for (metric, day, key), value in counts.items()
        )
        DashboardRefresh.objects.all().delete()
        return DashboardRefresh.objects.create(
            refreshed_at=now, window_start=window_start, snapshot=snapshot
        )
