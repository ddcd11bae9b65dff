"""Benchmark of the reviewer queue (issue 4): flat with scale, and against Django's admin.

Creates its own database (dropped at the end), loads 1,000 open cases, measures, then grows
it to 300,000 open cases and 1,000,000 reports with `manage.py seed_bulk` and measures the
same requests again, through the Django test client signed in as a moderator. Prints a
table, then as its last line one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `queue`: take its folder off the path
# before anything imports that module, and put the project's root on instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import psycopg  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SMALL_CASES, SMALL_REPORTS = 1_000, 3_300
LARGE_CASES = int(os.environ.get("BENCH_LARGE_CASES", "300000"))
LARGE_REPORTS = int(os.environ.get("BENCH_LARGE_REPORTS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def main() -> int:
    admin_url = os.environ["DATABASE_URL"]
    name = f"saring_bench_queue_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = _with_database(admin_url, name)
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def run() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import ChatAccount
    from config.roles import Role
    from moderation.cases.selectors import PAGE_SIZE, QueueFilters, case_queue
    from moderation.models import Case
    from tests.support.factories import UserFactory

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    moderator = UserFactory(username="bench-moderator", roles=[Role.MODERATOR])
    admin = UserFactory(
        username="bench-admin", is_staff=True, is_superuser=True, roles=[Role.ADMINISTRATOR]
    )
    ours, theirs = Client(), Client()
    ours.force_login(moderator)
    theirs.force_login(admin)

    def time_get(client, url: str, repeat: int = REPEAT) -> tuple[float, int]:
        client.get(url)  # warm: plans, caches, template loading
        samples, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured)
        return median_ms(samples), queries

    def time_next(repeat: int = REPEAT) -> tuple[float, int]:
        samples, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = ours.post("/queue/next/")
                samples.append(time.perf_counter() - started)
            assert response.status_code == 302 and "/cases/" in response["Location"]
            queries = len(captured)
        return median_ms(samples), queries

    def page_500_cursor() -> tuple[str, int]:
        """The cursor of page 500, or of the last page when there are fewer."""
        after, number = None, 1
        while number < 500:
            page = case_queue(filters=QueueFilters(), after=after, limit=PAGE_SIZE)
            if page.next_cursor is None:
                break
            after, number = page.next_cursor, number + 1
        return (after.encode() if after else ""), number

    def phone_as_typed() -> str:
        """A queued account's phone number, written the way a person types it."""
        phone = (
            ChatAccount.objects.filter(identifier_kind="phone")
            .order_by("id")
            .values_list("identifier", flat=True)[7]
        )
        local = "0" + phone[3:]
        return f"{local[:4]}-{local[4:8]}-{local[8:]}"

    def measure(label: str, phone: str) -> dict:
        cursor, number = page_500_cursor()
        print(f"  deepest page measured: {number}", flush=True)
        results = {}
        results["first page"] = time_get(ours, "/queue/")
        results["filtered page"] = time_get(ours, "/queue/?platform=telegram&source=police")
        results["page 500 (keyset)**"] = time_get(ours, f"/queue/?after={cursor}")
        results["search (phone number)"] = time_get(ours, f"/queue/?q={phone}")
        results["next case"] = time_next()
        # Informational rows, not part of the goals.
        results["search (common word)*"] = time_get(ours, "/queue/?q=bekasi")
        cache.clear()
        started = time.perf_counter()
        ours.get("/queue/counts/")
        results["counts per filter, uncached*"] = (
            round((time.perf_counter() - started) * 1000, 2),
            0,
        )
        results["admin changelist (baseline)"] = time_get(theirs, "/admin/moderation/case/", 5)
        print(f"  measured at {label}", flush=True)
        return results

    print(f"Seeding {SMALL_CASES} cases …", flush=True)
    call_command("seed_bulk", cases=SMALL_CASES, reports=SMALL_REPORTS, stdout=sys.stderr)
    phone = phone_as_typed()
    small = measure(f"{Case.objects.count()} cases", phone)
    print(f"Growing to {LARGE_CASES} cases and {LARGE_REPORTS} reports …", flush=True)
    call_command(
        "seed_bulk",
        cases=LARGE_CASES - SMALL_CASES,
        reports=LARGE_REPORTS - SMALL_REPORTS,
        seed=5,
        stdout=sys.stderr,
    )
    large = measure(f"{Case.objects.count()} cases", phone)

    goals = [
        "first page",
        "filtered page",
        "page 500 (keyset)**",
        "search (phone number)",
        "next case",
    ]
    print()
    print(
        f"{'request (median ms, ' + str(REPEAT) + ' runs)':<34}{'1,000':>10}{'300,000':>10}"
        f"{'ratio':>8}{'queries':>9}"
    )
    for key in small:
        (s_ms, s_q), (l_ms, l_q) = small[key], large[key]
        ratio = l_ms / s_ms if s_ms else float("nan")
        queries = f"{s_q}/{l_q}" if key in goals or "admin" in key else "-"
        print(f"{key:<34}{s_ms:>10.2f}{l_ms:>10.2f}{ratio:>8.2f}{queries:>9}")
    print("* informational: not among the issue's measures")
    print("** at 1,000 cases there are only 20 pages: the last one is measured there")
    ratio_max = max(large[k][0] / small[k][0] for k in goals)
    admin_over_ours = large["admin changelist (baseline)"][0] / large["first page"][0]
    queries_max = max(max(small[k][1], large[k][1]) for k in goals)
    constant = all(small[k][1] == large[k][1] for k in goals)
    print(f"ratio large/small, max: {ratio_max:.2f} (goal <= 1.5)")
    print(f"admin changelist / our first page at 300,000: {admin_over_ours:.1f}x (goal >= 10x)")
    print(f"SQL queries per request: max {queries_max}, constant with scale: {constant}")
    print(
        json.dumps(
            {
                "bench": "queue",
                "ratio_large_small_max": round(ratio_max, 2),
                "admin_over_ours": round(admin_over_ours, 1),
                "queries_per_page_max": queries_max,
                "next_case_ms_large": large["next case"][0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
