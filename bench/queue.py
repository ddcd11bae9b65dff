"""Benchmark of the reviewer queue: as fast at 300,000 open cases as at 1,000, and at least
ten times faster than Django's admin changelist over the same cases.

    make bench BENCH=queue                      # 1,000, then 300,000 open cases (1,000,000 reports)
    BENCH_SCALE=smoke make bench BENCH=queue    # the same code path on a few thousand rows

In a database of its own (bench/common.py), `manage.py seed_bulk` loads the small size; the
requests below are measured; the same database then grows to the large size and they are
measured again. After each load the tables are vacuumed and analysed, as autovacuum soon
would, so that it never starts in the middle of a measurement. Requests go through Django's
test client, in this process, signed in as people sign in: a moderator with a password, the
administrator with a password and a TOTP code. A figure is the median of BENCH_REPEAT
requests after one warm-up request, which also counts the request's SQL queries.

Measured at both sizes:
- the first page; a filtered page (platform and source); page 500 by keyset (at the small
  size, which has fewer pages, its last page); a search for a rare word (five reports, the
  only ones naming Pontianak), for a common word (Bekasi: every report of the drugs
  category, 3 % of the cases) and for a phone number as a person types it; "next case"
  (POST /queue/next/, which claims the most important unclaimed case);
- the first page with its counts: the page loads /queue/counts/ after itself, which Redis
  caches for 20 s. "Cold" deletes the cached counts before each sample; "cached" keeps them;
- the baseline, Django's admin changelist for cases, like for like: PAGE_SIZE rows a page
  (its `list_per_page`, set in this process only), the queue's order (-priority, id), the
  queue's cases (?status__in=open,in_review), read through an index that matches its query:
  EXPLAIN checks it, and if no index matches one is created in this database (and said so).

Goals: large/small ≤ 1.5 for the first page, page 500, the filtered page, both word searches
and next case; the admin changelist ≥ 10× slower than our first page with its counts (cold:
like the admin, it counts on that very request) at 300,000 cases.

BENCH_PROFILE=1 profiles, at the large size, every request whose goal is missed (=all: every
request; for the admin goal, the admin's page and our counts, cold): a pyinstrument profile
of the request in this process, then each of its SELECTs under EXPLAIN ANALYZE (the server's
own time), slowest first, with the slowest one's plan. For a quicker look at other sizes:
BENCH_LARGE_CASES, BENCH_LARGE_REPORTS, BENCH_REPEAT.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `queue`: when it is run as a file, take its
# folder off the path before anything imports that module.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench.common import (  # noqa: E402
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

BENCH = "queue"
SMALL_CASES = scaled(full=1_000, smoke=200)
SMALL_REPORTS = scaled(full=3_300, smoke=660)
LARGE_CASES = int(os.environ.get("BENCH_LARGE_CASES", scaled(full=300_000, smoke=3_000)))
LARGE_REPORTS = int(os.environ.get("BENCH_LARGE_REPORTS", scaled(full=1_000_000, smoke=10_000)))
REPEAT = int(os.environ.get("BENCH_REPEAT", scaled(full=15, smoke=3)))
PROFILE = os.environ.get("BENCH_PROFILE", "")
RATIO_GOAL, ADMIN_GOAL = 1.5, 10.0
RARE_WORD, RARE_REPORTS = "Pontianak", 5
COMMON_WORD = "bekasi"
ADMIN_URL = "/admin/moderation/case/?status__in=open,in_review"
# Where moderation.cases.selectors.queue_counts caches its counts (checked below, so that a
# renamed key fails loudly instead of measuring a warm cache as a cold one).
COUNTS_KEY = "moderation:queue-counts:v1"
ORDERED_SCAN = re.compile(r"Index (?:Only )?Scan (?:Backward )?using (\S+) on moderation_case")


@dataclass(frozen=True)
class Request:
    key: str  # its name in the JSON: "<key>_ms_small", "<key>_ms_large"
    label: str
    method: str  # "get" | "post"
    url: str
    client: str = "moderator"  # or "admin"
    goal: bool = True  # large/small ≤ RATIO_GOAL


@dataclass(frozen=True)
class Figure:
    ms: float
    queries: int


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def main() -> int:
    # Our own cache prefix: the counts' cache key is then this run's alone, whatever else
    # shares the Redis database.
    os.environ["CACHE_KEY_PREFIX"] = f"bench-queue-{uuid.uuid4().hex[:8]}"
    with own_database(BENCH):
        django_ready()
        return run()


def run() -> int:
    from django.conf import settings
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from config.roles import Role
    from moderation.cases.selectors import PAGE_SIZE
    from moderation.models import Case

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Like for like: the admin shows as many rows a page as the queue (in this process only).
    admin.site._registry[Case].list_per_page = PAGE_SIZE

    moderator, _ = staff("bench-moderator", Role.MODERATOR)
    administrator, admin_secret = staff("bench-admin", Role.ADMINISTRATOR)
    # The Administrator role may not read cases in the admin (DESIGN.md); the baseline must.
    get_user_model().objects.filter(pk=administrator.pk).update(is_superuser=True)
    clients = {
        "moderator": signed_in_client("bench-moderator"),
        "admin": signed_in_client("bench-admin", admin_secret),
    }

    say(BENCH, f"seeding {SMALL_CASES:,} open cases, {SMALL_REPORTS:,} reports")
    call_command("seed_bulk", cases=SMALL_CASES, reports=SMALL_REPORTS, stdout=sys.stderr)
    _plant_rare_word()
    _vacuum()
    phone = _phone_as_typed()
    small = measure(clients, phone)

    say(BENCH, f"growing to {LARGE_CASES:,} open cases, {LARGE_REPORTS:,} reports")
    started = time.perf_counter()
    call_command(
        "seed_bulk",
        cases=LARGE_CASES - SMALL_CASES,
        reports=LARGE_REPORTS - SMALL_REPORTS,
        seed=5,
        stdout=sys.stderr,
    )
    _vacuum()
    say(BENCH, f"grown in {time.perf_counter() - started:.0f} s")
    large = measure(clients, phone)

    if PROFILE:
        profile_missed(clients, small, large, phone)
    return report(small, large, phone)


def profile_missed(clients: dict, small: dict, large: dict, phone: str) -> None:
    """Profile, at the large size, each request whose goal is missed (or every one); when
    the admin goal is missed, both sides of it: the admin's page and our counts, cold."""
    from django.core.cache import cache

    admin_missed = _admin_missed(large)
    for request in requests(phone, large["_page_500_cursor"]):
        missed = request.goal and _ratio(small, large, request.key) > RATIO_GOAL
        if PROFILE == "all" or missed or (request.key == "admin" and admin_missed):
            profile(clients[request.client], request)
    if PROFILE == "all" or admin_missed:
        cache.delete(COUNTS_KEY)
        profile(clients["moderator"], Request("counts", "counts, cold", "get", "/queue/counts/"))


# --- The data --------------------------------------------------------------------------------


def _plant_rare_word() -> None:
    """Five reports, on five cases spread through the queue, are the only ones that name a
    city nowhere else in the data; they stay the only five when the database grows."""
    from moderation.models import Case
    from reports.models import Report

    case_ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    step = max(len(case_ids) // RARE_REPORTS, 1)
    chosen = case_ids[step // 2 :: step][:RARE_REPORTS]
    report_ids = [
        Report.objects.filter(case_id=case_id).order_by("id").values_list("id", flat=True)[0]
        for case_id in chosen
    ]
    Report.objects.filter(id__in=report_ids).update(
        description=f"Open BO area {RARE_WORD}, minta DP lewat transfer."
    )


def _vacuum() -> None:
    """What autovacuum does soon after a bulk load, done now so that it never starts in the
    middle of a measurement. It also empties the GIN indexes' pending lists, which a search
    would otherwise read through (up to gin_pending_list_limit, 4 MB, per index)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("accounts_chataccount", "moderation_case", "reports_report"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _phone_as_typed() -> str:
    """A queued account's phone number, written the way a person types it."""
    from accounts.models import ChatAccount

    phone = (
        ChatAccount.objects.filter(identifier_kind="phone")
        .order_by("id")
        .values_list("identifier", flat=True)[7]
    )
    local = "0" + phone[3:]
    return f"{local[:4]}-{local[4:8]}-{local[8:]}"


def _page_500_cursor() -> tuple[str, int]:
    """The cursor of page 500, or of the last page when there are fewer."""
    from moderation.cases.selectors import PAGE_SIZE, QueueFilters, case_queue

    cursor, number = "", 1
    while number < 500:
        page = case_queue(filters=QueueFilters(), cursor=cursor, limit=PAGE_SIZE)
        if page.next_cursor is None:
            break
        cursor, number = page.next_cursor, number + 1
    return cursor, number


def requests(phone: str, page_500_cursor: str) -> list[Request]:
    return [
        Request("first_page", "first page", "get", "/queue/"),
        Request(
            "filtered_page",
            "filtered page (platform, source)",
            "get",
            "/queue/?platform=telegram&source=police",
        ),
        Request("page_500", "page 500 (keyset)**", "get", f"/queue/?after={page_500_cursor}"),
        Request("search_rare", f"search: rare word ({RARE_WORD})", "get", _q(RARE_WORD)),
        Request("search_common", f"search: common word ({COMMON_WORD})", "get", _q(COMMON_WORD)),
        Request("search_phone", "search: phone number*", "get", _q(phone), goal=False),
        Request("next_case", "next case (POST)", "post", "/queue/next/"),
        Request("admin", "admin changelist (baseline)", "get", ADMIN_URL, "admin", goal=False),
    ]


def _q(text: str) -> str:
    return "/queue/?" + urlencode({"q": text})


# --- Measuring -------------------------------------------------------------------------------


def measure(clients: dict, phone: str) -> dict:
    from moderation.models import Case

    queued = Case.objects.filter(status__in=("open", "in_review")).count()
    cursor, deepest = _page_500_cursor()
    say(BENCH, f"measuring at {queued:,} queued cases (deepest page: {deepest})")
    _admin_index_check(clients["admin"])
    figures: dict = {"_cases": queued, "_deepest": deepest, "_page_500_cursor": cursor}
    for request in requests(phone, cursor):
        figures[request.key] = time_request(clients[request.client], request)
    figures["with_counts_cold"] = time_page_with_counts(clients["moderator"], cold=True)
    figures["with_counts_cached"] = time_page_with_counts(clients["moderator"], cold=False)
    return figures


def _send(client, request: Request):
    response = getattr(client, request.method)(request.url)
    expected = 302 if request.method == "post" else 200
    if response.status_code != expected:
        raise SystemExit(f"{request.method.upper()} {request.url}: HTTP {response.status_code}")
    if request.method == "post" and "/cases/" not in response["Location"]:
        raise SystemExit(f"next case did not land on a case: {response['Location']}")
    return response


def time_request(client, request: Request) -> Figure:
    # The warm-up (plans, template loading) is the one whose queries are counted: counting
    # adds its own cost, so the timed requests run without it.
    with recorded_queries() as queries:
        _send(client, request)
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        _send(client, request)
        samples.append(time.perf_counter() - started)
    return Figure(median_ms(samples), len(queries))


def time_page_with_counts(client, *, cold: bool) -> Figure:
    """The first page, then its counts, as the browser asks for them."""
    from django.core.cache import cache

    page = Request("first_page", "", "get", "/queue/")
    counts = Request("counts", "", "get", "/queue/counts/")
    _send(client, page)
    _send(client, counts)
    if cache.get(COUNTS_KEY) is None:
        raise SystemExit(f"the queue counts are not cached under {COUNTS_KEY!r} any more")
    samples = []
    for _ in range(REPEAT):
        if cold:
            cache.delete(COUNTS_KEY)
        elif cache.get(COUNTS_KEY) is None:  # 20 s went by: warm it again, untimed
            _send(client, counts)
        started = time.perf_counter()
        _send(client, page)
        _send(client, counts)
        samples.append(time.perf_counter() - started)
    return Figure(median_ms(samples), 0)


def _admin_index_check(client) -> None:
    """The admin's page query must have an index that gives its rows in its order, as ours
    has: take that query from a real changelist request, ask PostgreSQL whether it can avoid
    sorting (sorts and sequential scans switched off, for this question only), and create an
    index if it cannot. Then say which plan it really chooses at this size."""
    from django.db import connection

    from moderation.cases.selectors import QueueFilters, case_queue

    with recorded_queries() as queries:
        response = _send(client, Request("admin", "", "get", ADMIN_URL, "admin"))
    admin_links = re.findall(r"/admin/moderation/case/(\d+)/change/", response.content.decode())
    admin_ids = [int(pk) for pk in dict.fromkeys(admin_links)]
    our_ids = [case.pk for case in case_queue(filters=QueueFilters()).cases]
    if admin_ids != our_ids:
        raise SystemExit("the admin's first page does not show the queue's cases in its order")
    page_query = next(
        (sql, params)
        for sql, params, _seconds in queries
        if sql.startswith("SELECT") and 'FROM "moderation_case"' in sql and "ORDER BY" in sql
    )
    index = _ordered_index(_explain(*page_query, index_only=True))
    if index is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX bench_admin_case_order_idx ON moderation_case (priority DESC, id) "
                "WHERE status IN ('open', 'in_review')"
            )
            cursor.execute("ANALYZE moderation_case")
        index = _ordered_index(_explain(*page_query, index_only=True))
        if index is None:
            raise SystemExit("no index gives the admin's page query its order")
        say(BENCH, f"no index matched the admin's page query: created {index}")
    chosen = _ordered_index(_explain(*page_query)) or "a sort (cheaper at this size)"
    say(
        BENCH,
        f"admin changelist: the queue's first {len(our_ids)} cases in its order; "
        f"matching index {index}; plan: {chosen}",
    )


def _explain(sql: str, params, *, analyze: bool = False, index_only: bool = False) -> list[str]:
    from django.db import connection, transaction

    options = "ANALYZE, BUFFERS" if analyze else "COSTS OFF"
    with transaction.atomic(), connection.cursor() as cursor:
        if index_only:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def _ordered_index(plan: list[str]) -> str | None:
    """The index on moderation_case that gives the rows in order, if the plan uses one."""
    if any("Sort" in line for line in plan):
        return None
    for line in plan:
        found = ORDERED_SCAN.search(line)
        if found:
            return found.group(1)
    return None


def profile(client, request: Request) -> None:
    """Where the time of one request goes: a pyinstrument profile of it, in this process,
    and the plan of its slowest SELECT as PostgreSQL executed it."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with recorded_queries() as queries:
        profiler.start()
        _send(client, request)
        profiler.stop()
    print(f"\n=== profile: {request.label} ({request.method.upper()} {request.url}) ===")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    sql_seconds = sum(seconds for _sql, _params, seconds in queries)
    print(f"{len(queries)} queries, {sql_seconds * 1000:.1f} ms in SQL as measured")
    print_server_times(queries)


# --- The result ------------------------------------------------------------------------------


def _ratio(small: dict, large: dict, key: str) -> float:
    return large[key].ms / small[key].ms if small[key].ms else float("nan")


def _admin_missed(large: dict) -> bool:
    return large["admin"].ms / large["with_counts_cold"].ms < ADMIN_GOAL


def report(small: dict, large: dict, phone: str) -> int:
    rows = requests(phone, "")
    goals = [r.key for r in rows if r.goal]
    n_small, n_large = f"{small['_cases']:,}", f"{large['_cases']:,}"
    print()
    print(
        f"{f'request (median ms of {REPEAT})':<40}{n_small:>10}{n_large:>10}{'ratio':>8}"
        f"{'queries':>9}"
    )
    lines = [(r.key, r.label) for r in rows] + [
        ("with_counts_cold", "first page + counts, cold"),
        ("with_counts_cached", "first page + counts, cached"),
    ]
    for key, label in lines:
        s, l_ = small[key], large[key]
        queries = "-" if key.startswith("with_") else f"{s.queries}/{l_.queries}"
        print(
            f"{label:<40}{s.ms:>10.2f}{l_.ms:>10.2f}{_ratio(small, large, key):>8.2f}{queries:>9}"
        )
    print("* informational: not among the goals")
    print(f"** the small size has {small['_deepest']} pages: its last one is measured there")

    ratio_max = max(_ratio(small, large, key) for key in goals)
    worst = max(goals, key=lambda key: _ratio(small, large, key))
    admin_ms = large["admin"].ms
    admin_over_ours = admin_ms / large["with_counts_cold"].ms
    queries_max = max(max(small[k].queries, large[k].queries) for k in goals)
    constant = all(small[k].queries == large[k].queries for k in goals)
    print(
        f"ratio large/small, worst: {ratio_max:.2f} ({worst}); goal <= {RATIO_GOAL}: "
        f"{goal(ratio_max <= RATIO_GOAL)}"
    )
    print(
        f"admin changelist / our first page with counts at {n_large} cases: "
        f"{admin_over_ours:.1f}x cold, {admin_ms / large['with_counts_cached'].ms:.1f}x cached, "
        f"{admin_ms / large['first_page'].ms:.1f}x page alone; goal >= {ADMIN_GOAL:.0f}x (cold): "
        f"{goal(admin_over_ours >= ADMIN_GOAL)}"
    )
    print(f"SQL queries per request: at most {queries_max}, the same at both sizes: {constant}")
    if SMOKE:
        print("(smoke scale: the figures say the code runs, not how fast it is)")

    result = {
        "bench": BENCH,
        "cases_small": small["_cases"],
        "cases_large": large["_cases"],
        "ratio_large_small_max": round(ratio_max, 2),
        "ratio_worst_request": worst,
        "admin_over_ours": round(admin_over_ours, 1),
        "admin_over_ours_cached": round(admin_ms / large["with_counts_cached"].ms, 1),
        "admin_over_ours_page": round(admin_ms / large["first_page"].ms, 1),
        "ratio_goal_met": ratio_max <= RATIO_GOAL,
        "admin_goal_met": admin_over_ours >= ADMIN_GOAL,
        "queries_per_page_max": queries_max,
        "queries_constant": constant,
        "next_case_ms_large": large["next_case"].ms,
        "first_page_with_counts_cold_ms": large["with_counts_cold"].ms,
        "first_page_with_counts_cached_ms": large["with_counts_cached"].ms,
        "first_page_with_counts_cold_ms_small": small["with_counts_cold"].ms,
        "first_page_with_counts_cached_ms_small": small["with_counts_cached"].ms,
    }
    for request in rows:
        result[f"{request.key}_ms_small"] = small[request.key].ms
        result[f"{request.key}_ms_large"] = large[request.key].ms
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
