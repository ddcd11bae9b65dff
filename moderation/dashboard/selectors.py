"""The supervisor dashboard's figures, as aggregate queries that stay fast at a million reports.

Per-day counts (reports by source kind, decisions by moderator, takedown outcomes by platform)
come from `DashboardDaily`, which a Celery beat task rewrites every few minutes
(`moderation.dashboard.services.dashboard_refresh`); whatever happened since that run is
counted live from the raw tables, through their time indexes, and added. So a day's figure is
exact, and the work is bounded by the window's days plus a few minutes of activity, never by
the size of the history. Medians cannot be summed per day: they are taken at each refresh
(live when there has never been one). Open cases and overdue requests are "now" figures,
read live through partial indexes that hold only open cases and unconfirmed requests.
The objections received in the period are a cohort whose counts change as they are decided:
like the medians, they are taken at each refresh (`moderation.objections.objection_counts`);
what awaits a decision or a restoration now is read live through status indexes.

Days are WIB (Asia/Jakarta) calendar days throughout.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.categories import Category
from accounts.models import Platform
from config.clock import WIB, wib_day_start, wib_today
from moderation.models import (
    Case,
    DashboardDaily,
    DashboardRefresh,
    Decision,
    TakedownRequest,
)
from moderation.objections import ObjectionFigures, objection_counts, objection_figures
from moderation.takedowns import COMPLIANCE_COUNTS, Compliance, compliance_counts
from reports.models import Report, SourceKind

WINDOWS = (30, 90)
# The summary keeps a little more than the longest window, so that a refresh that is a day
# or two late still covers it.
SUMMARY_DAYS = 92
UNCONFIRMED = TakedownRequest.UNCONFIRMED
# Age buckets of open cases: (key, lower bound in hours, upper bound in hours or None).
AGE_BUCKETS = (("lt1d", 0, 24), ("d1_3", 24, 72), ("d3_7", 72, 168), ("gt7d", 168, None))
Metric = DashboardDaily.Metric
# Each takedown metric of the summary is one of the compliance counts, per day and platform.
TAKEDOWN_METRICS = {
    Metric.TAKEDOWNS_ISSUED: "requests",
    Metric.TAKEDOWNS_DONE: "taken_down",
    Metric.TAKEDOWNS_DUE: "due",
    Metric.TAKEDOWNS_IN_TIME: "in_time",
    Metric.TAKEDOWNS_DUE_4H: "due_4h",
    Metric.TAKEDOWNS_4H: "within_4h",
    Metric.TAKEDOWNS_DUE_24H: "due_24h",
    Metric.TAKEDOWNS_24H: "within_24h",
}


# --- Per-day counts straight from the raw tables (the refresh and the live tail) ----------


def _between(field_name: str, since: datetime | None, until: datetime | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(**{f"{field_name}__gte": since})
    if until is not None:
        q &= Q(**{f"{field_name}__lt": until})
    return q


def raw_daily_counts(
    *, since: datetime | None, until: datetime | None = None
) -> dict[tuple[str, date, str], int]:
    """{(metric, WIB day, key): count} for everything that happened in [since, until);
    takedowns are judged (compliance) as of `until`, or now."""
    counts: dict[tuple[str, date, str], int] = {}
    reports = (
        Report.objects.filter(_between("received_at", since, until))
        .annotate(day=TruncDate("received_at", tzinfo=WIB))
        .values_list("day", "source_kind")
        .annotate(n=Count("*"))
    )
    for day, kind, n in reports:
        counts[(Metric.REPORTS, day, kind)] = n
    decisions = (
        Decision.objects.filter(_between("created_at", since, until), withdrawn_at__isnull=True)
        .annotate(day=TruncDate("created_at", tzinfo=WIB))
        .values_list("day", "moderator_id")
        .annotate(n=Count("*"))
    )
    for day, moderator_id, n in decisions:
        counts[(Metric.DECISIONS, day, str(moderator_id))] = n
    takedowns = (
        TakedownRequest.objects.filter(_between("issued_at", since, until))
        .annotate(day=TruncDate("issued_at", tzinfo=WIB))
        .values("day", "platform_id")
        .annotate(**compliance_counts(now=until or timezone.now()))
        .order_by()
    )
    for row in takedowns:
        for metric, name in TAKEDOWN_METRICS.items():
            if row[name]:
                counts[(metric, row["day"], str(row["platform_id"]))] = row[name]
    return counts


def _window_counts(start_day: date, refresh: DashboardRefresh | None, *, detailed: bool) -> dict:
    """The counts from `start_day` on: the summary up to its refresh, plus the tail. Reports
    come per day (the chart shows days); the rest is summed per key in the database, with
    day None, unless `detailed` asks for decisions per day too (the throughput CSV)."""
    if refresh is None or refresh.window_start > start_day:
        return raw_daily_counts(since=wib_day_start(start_day))
    per_day = [Metric.REPORTS, *([Metric.DECISIONS] if detailed else [])]
    summary = DashboardDaily.objects.filter(day__gte=start_day)
    counts: dict[tuple[str, date | None, str], int] = defaultdict(int)
    for metric, day, key, value in summary.filter(metric__in=per_day).values_list(
        "metric", "day", "key", "value"
    ):
        counts[(metric, day, key)] += value
    for metric, key, value in (
        summary.exclude(metric__in=per_day)
        .values_list("metric", "key")
        .annotate(total=Sum("value"))
    ):
        counts[(metric, None, key)] += value
    for item, value in raw_daily_counts(since=refresh.refreshed_at).items():
        counts[item] += value
    return counts


# --- Medians ------------------------------------------------------------------------------


def medians_compute(*, since: datetime) -> dict:
    """Median seconds from a case's first report to its first decision (decisions made since
    `since`), and from approval (request issued) to takedown (requests issued since `since`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM d.created_at - c.opened_at)),
                   count(*)
            FROM moderation_decision d
            JOIN moderation_case c ON c.id = d.case_id
            WHERE d.created_at >= %s AND d.withdrawn_at IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM moderation_decision e
                  WHERE e.case_id = d.case_id AND e.withdrawn_at IS NULL
                    AND (e.created_at < d.created_at
                         OR (e.created_at = d.created_at AND e.id < d.id)))
            """,
            [since],
        )
        decision_median, decisions = cursor.fetchone()
        cursor.execute(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM resolved_at - issued_at)),
                   count(*)
            FROM moderation_takedownrequest
            WHERE issued_at >= %s AND status = 'taken_down' AND resolved_at IS NOT NULL
            """,
            [since],
        )
        takedown_median, takedowns = cursor.fetchone()
    return {
        "decision_seconds": float(decision_median) if decision_median is not None else None,
        "decisions": decisions,
        "takedown_seconds": float(takedown_median) if takedown_median is not None else None,
        "takedowns": takedowns,
    }


# --- The dashboard ------------------------------------------------------------------------


@dataclass
class Dashboard:
    days: int
    start: date
    today: date
    now: datetime
    refreshed_at: datetime | None
    day_list: list[date]
    reports: dict[str, list[int]]  # source kind -> count per day of day_list
    report_totals: dict[str, int]
    open_cases: list[dict]  # category rows with age bucket counts
    open_cases_as_of: datetime
    open_by_status: dict[str, int]  # proposed and escalated cases, now
    requests_by_status: dict[str, int]  # unconfirmed takedown requests
    medians: dict
    medians_as_of: datetime
    sla: list[Compliance]  # per platform with requests in the window
    overdue_by_platform: list[dict]
    overdue_total: int
    overdue_oldest: list[TakedownRequest]
    throughput: list[dict]  # per moderator
    decisions_total: int
    objections: ObjectionFigures  # received in the period, awaiting now, restore requests
    extra: dict = field(default_factory=dict)

    @property
    def in_flight(self) -> int:
        return sum(n for status, n in self.requests_by_status.items() if status != "failed")

    @property
    def sla_rows(self) -> list[tuple[Compliance, int]]:
        """Each platform's compliance with its restore requests confirmed in the period."""
        restored = self.objections.restored_by_platform
        return [(row, restored.get(row.platform.pk, 0)) for row in self.sla]


def dashboard_figures(
    *, days: int = 30, now: datetime | None = None, detailed: bool = False
) -> Dashboard:
    """Everything the dashboard shows for the last `days` WIB days. `detailed` adds each
    person's decisions per day (row["per_day"]), which only the CSV needs."""
    if days not in WINDOWS:
        raise ValueError(f"days must be one of {WINDOWS}")
    now = now or timezone.now()
    today = wib_today(now)
    start = today - timedelta(days=days - 1)
    day_list = [start + timedelta(days=i) for i in range(days)]
    refresh = DashboardRefresh.objects.order_by("-refreshed_at").first()
    counts = _window_counts(start, refresh, detailed=detailed)

    reports = {kind: [0] * days for kind in SourceKind.values}
    decisions_by_user: dict[int, int] = defaultdict(int)
    decisions_per_day: dict[int, list[int]] = defaultdict(lambda: [0] * days)
    takedowns: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COMPLIANCE_COUNTS, 0))
    for (metric, day, key), value in counts.items():
        if day is not None and not start <= day <= today:
            continue
        index = (day - start).days if day is not None else None
        if metric == Metric.REPORTS and key in reports and index is not None:
            reports[key][index] += value
        elif metric == Metric.DECISIONS:
            decisions_by_user[int(key)] += value
            if index is not None:
                decisions_per_day[int(key)][index] += value
        elif metric in TAKEDOWN_METRICS:
            takedowns[int(key)][TAKEDOWN_METRICS[metric]] += value

    snapshot = refresh.snapshot if refresh is not None else {}
    if refresh is not None and snapshot.get("medians", {}).get(str(days)) is not None:
        medians, medians_as_of = snapshot["medians"][str(days)], refresh.refreshed_at
    else:
        medians, medians_as_of = medians_compute(since=wib_day_start(start)), now
    if refresh is not None and "open_cases" in snapshot:
        open_cases, open_cases_as_of = snapshot["open_cases"], refresh.refreshed_at
    else:
        open_cases, open_cases_as_of = open_cases_compute(now=now), now
    labels = dict(Category.choices)
    open_cases = [
        {**row, "label": labels.get(row["category"], row["category"])} for row in open_cases
    ]

    # Every unconfirmed request, per status and platform, with how many are past their
    # deadline: one index-only scan of the partial index that holds nothing else.
    unconfirmed = list(
        TakedownRequest.objects.filter(status__in=UNCONFIRMED)
        .values_list("status", "platform_id")
        .annotate(n=Count("*"), overdue=Count("deadline", filter=Q(deadline__lt=now)))
    )
    overdue_per_platform: dict[int, int] = defaultdict(int)
    requests_by_status: dict[str, int] = dict.fromkeys(UNCONFIRMED, 0)
    for status, pid, n, overdue in unconfirmed:
        requests_by_status[status] += n
        if overdue:
            overdue_per_platform[pid] += overdue
    overdue_rows = list(overdue_per_platform.items())
    platform_ids = set(takedowns) | {pid for pid, _ in overdue_rows}
    platforms = {p.pk: p for p in Platform.objects.filter(pk__in=platform_ids)}
    sla = sorted(
        (
            Compliance(platform=platforms[pid], **figures)
            for pid, figures in takedowns.items()
            if figures["requests"]
        ),
        key=lambda row: row.name,
    )
    overdue_by_platform: list[dict[str, Any]] = sorted(
        ({"platform": platforms[pid], "overdue": n} for pid, n in overdue_rows),
        key=lambda row: (-row["overdue"], row["platform"].name),
    )
    overdue_oldest = list(
        TakedownRequest.objects.filter(status__in=UNCONFIRMED, deadline__lt=now)
        .select_related("platform", "account")
        .order_by("deadline")[:10]
    )

    users = get_user_model().objects.in_bulk(list(decisions_by_user))
    throughput: list[dict[str, Any]] = sorted(
        (
            {
                "moderator": users[uid],
                "per_day": decisions_per_day[uid] if detailed else None,
                "total": total,
                "average": round(total / days, 2),
            }
            for uid, total in decisions_by_user.items()
            if uid in users
        ),
        key=lambda row: (-row["total"], row["moderator"].get_username()),
    )
    # The queue's headline counts are live: few rows, found through the status index.
    open_by_status = dict.fromkeys(("proposed", "escalated"), 0)
    open_by_status.update(
        Case.objects.filter(status__in=list(open_by_status))
        .values_list("status")
        .annotate(n=Count("*"))
    )
    return Dashboard(
        days=days,
        start=start,
        today=today,
        now=now,
        refreshed_at=refresh.refreshed_at if refresh else None,
        day_list=day_list,
        reports=reports,
        report_totals={kind: sum(values) for kind, values in reports.items()},
        open_cases=open_cases,
        open_cases_as_of=open_cases_as_of,
        open_by_status=open_by_status,
        requests_by_status=requests_by_status,
        medians=medians,
        medians_as_of=medians_as_of,
        sla=sla,
        overdue_by_platform=overdue_by_platform,
        overdue_total=sum(n for _, n in overdue_rows),
        overdue_oldest=overdue_oldest,
        throughput=throughput,
        decisions_total=sum(row["total"] for row in throughput),
        objections=objection_figures(
            since=wib_day_start(start), now=now, **_objection_snapshot(refresh, days)
        ),
    )


def _objection_snapshot(refresh: DashboardRefresh | None, days: int) -> dict:
    """The period's objection counts from the last refresh, if it took them."""
    if refresh is None:
        return {}
    counts = (refresh.snapshot.get("objections") or {}).get(str(days))
    return {"counts": counts, "counted_at": refresh.refreshed_at} if counts is not None else {}


def objection_snapshot(*, now: datetime) -> dict[str, dict]:
    """What a refresh keeps of the objections: each window's counts (see objection_counts)."""
    return {
        str(days): objection_counts(since=wib_day_start(wib_today(now) - timedelta(days=days - 1)))
        for days in WINDOWS
    }


def open_cases_compute(*, now: datetime) -> list[dict]:
    """Open cases per category and age (since the first report), from one index-only scan
    of the partial index that holds only open cases. The backlog grows with the daily
    volume, so the dashboard reads it from the last refresh (live only before the first)."""
    aggregates = {}
    for key, low, high in AGE_BUCKETS:
        q = Q(opened_at__lte=now - timedelta(hours=low))
        if high is not None:
            q &= Q(opened_at__gt=now - timedelta(hours=high))
        aggregates[key] = Count("opened_at", filter=q)
    rows = list(
        Case.objects.filter(status__in=Case.OPEN_STATUSES)
        .values("category")
        .annotate(total=Count("opened_at"), **aggregates)
    )
    rows.sort(key=lambda row: (-row["total"], row["category"]))
    return rows


def decision_count(
    *, since: datetime, until: datetime | None = None, moderator: User | None = None
) -> int:
    """What the decision-log export counts for the same filters: Decisions made in
    [since, until), optionally by one moderator. The dashboard's throughput must agree."""
    qs = Decision.objects.filter(_between("created_at", since, until), withdrawn_at__isnull=True)
    if moderator is not None:
        qs = qs.filter(moderator=moderator)
    return qs.count()
