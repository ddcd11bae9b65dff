"""Benchmark: the supervisor dashboard renders in the same time at 1,000 and 1,000,000 reports,
with what the last refresh interval brought still counted live.

    make bench BENCH=dashboard                      # 1,000 and 1,000,000 reports
    BENCH_SCALE=smoke make bench BENCH=dashboard    # the same code path at 1,000 and 10,000

Each size gets a database of its own (bench/common.py), migrated and seeded with COPY
(bench/dashboard_data.py): reports
spread over 90 days from the four kinds of source, about three reports per account, one case
per account, a decision on most cases older than a day, approvals and takedown requests for
most proposals, operators that mostly comply, some late, some overdue. Then, as in
production:

1. the summary refresh (what Celery beat runs every DASHBOARD_REFRESH_SECONDS, 300 s by
   default) runs as of the end of that history, and VACUUM ANALYZE has run before it;
2. one refresh interval of a busy day follows, written after the refresh and timestamped
   inside the interval: reports (a third on new accounts, the rest joining open cases),
   decisions, approvals, the takedown requests they issue, and operators' outcomes for
   earlier requests. Its size is the history's own average rate per interval of each kind,
   times BENCH_TAIL_FACTOR (default 10: a day's peak hour runs at two to three times the
   day's average, and the ministry's crawler delivers in batches of up to 500, so a busy
   interval holds several times the average). The dashboard counts all of it live, as it
   does just before the next refresh: its worst case.

The dashboard (/supervision/?days=30 and ?days=90) is then rendered through Django's test
client, in this process, signed in as a supervisor does (password, then a TOTP code): one
warm-up round, then BENCH_RENDERS rounds, alternating the sizes so that a shared machine's
drifting load weighs on both alike; each figure is a median. The goal, "the same time at
both sizes", is read as large/small ≤ 1.25 for each window. Each render's SQL statements are
timed too (the "SQL ms" column), through a wrapper that costs both sizes alike.

Before measuring, the dashboard's totals are checked against plain counts of the records
(`figures_exact` in the JSON): fast figures must also be right ones.

BENCH_PROFILE=1 profiles the large size's render of every window whose goal is missed
(=all: every window): a pyinstrument profile in this process, then each of its SELECTs under
EXPLAIN ANALYZE, slowest first, with the slowest one's plan. DASHBOARD_BENCH_SIZES=1000,50000
runs two other sizes; BENCH_RENDERS and BENCH_TAIL_FACTOR change the rounds and the tail.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit

from bench.common import (
    SMOKE,
    django_ready,
    emit,
    goal,
    own_database,
    print_server_times,
    recorded_queries,
    say,
    scaled,
    signed_in_client,
    staff,
)
from bench.dashboard_data import references, seed, tail_add, tail_sizes

BENCH = "dashboard"
_DEFAULT_SIZES = "1000,10000" if SMOKE else "1000,1000000"
SIZES = tuple(int(n) for n in os.environ.get("DASHBOARD_BENCH_SIZES", _DEFAULT_SIZES).split(","))
RENDERS = int(os.environ.get("BENCH_RENDERS", scaled(full=21, smoke=3)))
TAIL_FACTOR = float(os.environ.get("BENCH_TAIL_FACTOR", "10"))
PROFILE = os.environ.get("BENCH_PROFILE", "")
WINDOWS = (30, 90)
SAME = 1.25  # "the same time": large/small at most this


# --- Running it --------------------------------------------------------------------------------


def main() -> int:
    with own_database(BENCH) as small_url, own_database(BENCH) as large_url:
        django_ready(migrate=False)
        try:
            return run(dict(zip(SIZES, (small_url, large_url), strict=True)))
        finally:
            for connection in _WARM.values():
                connection.close()


_WARM: dict = {}  # url -> its own Django connection, kept open as CONN_MAX_AGE keeps it


def _use(url: str) -> None:
    """Make Django's default connection the one to this size's database. Each size keeps its
    own, open: a fresh PostgreSQL backend first loads its catalog caches, which would land on
    the first render after every switch and which a server with persistent connections
    does not pay."""
    from django.db import connections

    if url not in _WARM:
        base = connections["default"]
        name = urlsplit(url).path.lstrip("/")
        _WARM[url] = type(base)({**base.settings_dict, "NAME": name}, "default")
    connections["default"] = _WARM[url]
    with _WARM[url].cursor() as cursor:
        cursor.execute("SELECT 1")


def prepare(size: int, url: str, interval: float) -> dict:
    """Migrate, seed the history, refresh the summary as of its end, add one busy interval
    after it, and sign a supervisor in."""
    import psycopg
    from django.core.management import call_command
    from django.utils import timezone

    from config.roles import Role
    from moderation.dashboard.services import dashboard_refresh
    from reports.models import Report

    _use(url)
    call_command("migrate", verbosity=0)
    refs = references()
    started = timezone.now()
    refreshed_at = started - timedelta(seconds=interval)
    with psycopg.connect(url) as conn:
        history = seed(conn, reports=size, refs=refs, now=refreshed_at)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seeded = (timezone.now() - started).total_seconds()
    timer = time.perf_counter()
    dashboard_refresh(now=refreshed_at)
    refresh_ms = (time.perf_counter() - timer) * 1000
    sizes = tail_sizes(history, interval=interval, factor=TAIL_FACTOR)
    with psycopg.connect(url) as conn:
        tail = tail_add(conn, sizes=sizes, refs=refs, since=refreshed_at, until=started)
    live = Report.objects.filter(received_at__gte=refreshed_at).count()
    if live != tail["reports"]:  # the history must end before the refresh
        raise SystemExit(f"{live:,} reports since the refresh, {tail['reports']:,} written")
    exact = figures_exact()
    _, secret = staff("bench-supervisor", Role.SUPERVISOR)
    client = signed_in_client("bench-supervisor", secret)
    say(
        BENCH,
        f"{size:,} reports: history seeded in {seeded:.1f} s ("
        + ", ".join(f"{k} {v:,}" for k, v in history.items())
        + f"); refresh {refresh_ms:.0f} ms; then in one interval: "
        + ", ".join(f"{k} {v:,}" for k, v in tail.items()),
    )
    return {
        "history": history,
        "tail": tail,
        "refresh_ms": refresh_ms,
        "client": client,
        "exact": exact,
    }


def figures_exact() -> bool:
    """The dashboard promises exact per-day counts (summary plus live tail): compare its
    totals with a plain count of the records in each window."""
    from config.clock import wib_day_start
    from moderation.dashboard.selectors import dashboard_figures
    from moderation.models import Decision, TakedownRequest
    from reports.models import Report

    exact = True
    for days in WINDOWS:
        figures = dashboard_figures(days=days)
        since = wib_day_start(figures.start)
        pairs = {
            "reports": (
                sum(figures.report_totals.values()),
                Report.objects.filter(received_at__gte=since).count(),
            ),
            "decisions": (
                figures.decisions_total,
                Decision.objects.filter(created_at__gte=since).count(),
            ),
            "takedown requests": (
                sum(row.requests for row in figures.sla),
                TakedownRequest.objects.filter(issued_at__gte=since)
                .exclude(status="cancelled")
                .count(),
            ),
        }
        for name, (shown, counted) in pairs.items():
            if shown != counted:
                exact = False
                say(
                    BENCH,
                    f"{days} days: the dashboard shows {shown:,} {name}, the records {counted:,}",
                )
    return exact


def render(client, days: int):
    response = client.get(f"/supervision/?days={days}")
    if response.status_code != 200:
        raise SystemExit(f"/supervision/?days={days}: HTTP {response.status_code}")
    return response


def run(urls: dict[int, str]) -> int:
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    interval = float(settings.CELERY_BEAT_SCHEDULE["dashboard-refresh"]["schedule"])
    say(
        BENCH,
        f"one refresh interval is {interval:.0f} s; a busy one brings {TAIL_FACTOR:g}x the "
        "history's average per interval (a day's peak hour runs at 2-3x its average, and the "
        "crawler delivers in batches of up to 500)",
    )
    prepared = {size: prepare(size, url, interval) for size, url in urls.items()}
    keys = [(size, days) for size in SIZES for days in WINDOWS]
    total: dict = {key: [] for key in keys}
    sql: dict = {key: [] for key in keys}
    queries: dict = {}
    for round_ in range(RENDERS + 1):
        for size, url in urls.items():
            _use(url)
            for days in WINDOWS:
                with recorded_queries() as log:
                    started = time.perf_counter()
                    render(prepared[size]["client"], days)
                    elapsed = time.perf_counter() - started
                if round_ == 0:
                    continue  # warm-up
                total[(size, days)].append(elapsed * 1000)
                sql[(size, days)].append(sum(seconds for *_, seconds in log) * 1000)
                queries[(size, days)] = len(log)
    med = {key: statistics.median(values) for key, values in total.items()}
    med_sql = {key: statistics.median(values) for key, values in sql.items()}
    small, large = SIZES[0], SIZES[-1]
    ratio = {days: med[(large, days)] / med[(small, days)] for days in WINDOWS}
    if PROFILE:
        _use(urls[large])
        for days in WINDOWS:
            if PROFILE == "all" or ratio[days] > SAME:
                profile(prepared[large]["client"], days)
    return report(prepared, med, med_sql, queries, ratio, interval)


def profile(client, days: int) -> None:
    """Where the large size's render goes: a pyinstrument profile of it, then every SELECT
    it ran re-run under EXPLAIN ANALYZE (the server's own time, which a busy machine's
    scheduling does not blur), and the plan of the slowest."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with recorded_queries() as log:
        profiler.start()
        render(client, days)
        profiler.stop()
    print(f"\n=== profile: /supervision/?days={days} at {SIZES[-1]:,} reports ===")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"{len(log)} queries, {sum(s for *_, s in log) * 1000:.1f} ms in SQL as measured")
    print_server_times(log)


def report(prepared, med, med_sql, queries, ratio, interval) -> int:
    small, large = SIZES[0], SIZES[-1]
    print()
    print(
        f"{'reports':>10} | {'live tail':>9} | {'30 days ms':>10} | {'(SQL ms)':>8} | "
        f"{'90 days ms':>10} | {'(SQL ms)':>8} | {'queries':>7} | {'refresh ms':>10}"
    )
    print("-" * 96)
    for size in SIZES:
        print(
            f"{prepared[size]['history']['reports']:>10,} | "
            f"{prepared[size]['tail']['reports']:>9,} | "
            f"{med[(size, 30)]:>10.1f} | {med_sql[(size, 30)]:>8.1f} | "
            f"{med[(size, 90)]:>10.1f} | {med_sql[(size, 90)]:>8.1f} | "
            f"{queries[(size, 30)]:>3}/{queries[(size, 90)]:<3} | "
            f"{prepared[size]['refresh_ms']:>10.1f}"
        )
    print(f"{'ratio':>10} | {'':>9} | {ratio[30]:>10.2f} | {'':>8} | {ratio[90]:>10.2f} |")
    print(
        f"(median of {RENDERS} renders each, sizes interleaved; live tail = reports since the "
        f"refresh, one busy {interval:.0f} s interval; SQL = time in queries; refresh = the "
        "Celery beat task's summary rewrite, not part of a render)"
    )
    tail = prepared[large]["tail"]
    print(
        f"live tail at {large:,} reports: "
        + ", ".join(f"{k} {v:,}" for k, v in tail.items())
        + f" ({TAIL_FACTOR:g}x the history's average per interval)"
    )
    worst = max(ratio.values())
    print(f"ratio large/small: {worst:.2f} at worst; goal <= {SAME}: {goal(worst <= SAME)}")
    if SMOKE:
        print("(smoke scale: the figures say the code runs, not how fast it is)")
    result = {
        "bench": BENCH,
        "ratio_30d": round(ratio[30], 3),
        "ratio_90d": round(ratio[90], 3),
        "ratio_large_small": round(worst, 3),
        "goal_met": worst <= SAME,
        "tail_factor": TAIL_FACTOR,
        "refresh_interval_s": interval,
        "tail_reports": tail["reports"],
        "tail_decisions": tail["decisions"],
        "tail_approvals": tail["approvals"],
        "tail_requests": tail["requests"],
        "tail_outcomes": tail["outcomes"],
        "tail_reports_small": prepared[small]["tail"]["reports"],
        "reports_small": prepared[small]["history"]["reports"],
        "reports_large": prepared[large]["history"]["reports"],
        "refresh_ms_large": round(prepared[large]["refresh_ms"], 1),
        "queries_per_render_max": max(queries.values()),
        "figures_exact": all(prepared[size]["exact"] for size in SIZES),
    }
    for days in WINDOWS:
        for label, size in (("small", small), ("large", large)):
            result[f"ms_{label}_{days}d"] = round(med[(size, days)], 1)
            result[f"sql_ms_{label}_{days}d"] = round(med_sql[(size, days)], 1)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
