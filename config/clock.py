"""WIB days: every time a person sees is in Western Indonesian Time (settings.TIME_ZONE,
Asia/Jakarta), and a "day" in a filter or a chart is a WIB calendar day. Stored times are UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

WIB = ZoneInfo("Asia/Jakarta")


def wib_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), WIB).date()


def wib_day_start(day: date) -> datetime:
    """Midnight at the start of a WIB day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=WIB)
