"""Export: the decision log exported at two sizes in every format, a filtered export, and the
audit log sealed, verified and proved.

    make bench BENCH=export                     # 30,000 and 1,000,000 decisions; 1,000,000 events
    BENCH_SCALE=smoke make bench BENCH=export   # 500 and 2,000 decisions; 2,000 events

What is measured, in one database of its own (dropped at the end):

1. The database is seeded with COPY (psycopg 3): platforms, accounts, closed cases, decisions
   30 s apart from 1 January 2025, approvals (four eyes), takedown requests and, on one case
   in fifty, a public report with contact details. First the small size, then the rest up
   to the large one.
2. At each size, an export in each format (CSV by COPY, JSON Lines, XLSX, DSA statements of
   reasons), requested by an auditor, runs in a fresh Python process exactly as the RQ
   worker runs it (`export_job`). That process first runs an export that matches nothing,
   in the same format, so the code is loaded and the connection open as in a worker that
   has done one job; then the peak-RSS mark is reset (/proc/self/clear_refs) and the real
   export runs. **Memory growth** = the process's peak RSS during the export minus its RSS
   just before; `memory_growth_ratio` = the worst, over the formats, of growth at the large
   size / growth at the small one (goal <= 1.2: memory flat with size). Speed = rows / the
   export's own seconds (the count, the query, the file, its SHA-256, the audit event);
   goal: CSV >= 50,000 rows/s at the large size.
3. A filtered CSV export at the large size: one platform, one month (WIB) — its seconds and
   rows (checked against a count in plain SQL).
4. The audit log: 1,000,000 events are written as writers leave them (unsealed), sealed
   with the sequencer's own function (events sealed a second; goal >= 5,000), verified by
   `manage.py audit_verify` (every leaf recomputed from its event and the tree from the
   leaves; goal >= 200,000 events/s), and 1,000 inclusion proofs of random leaves are timed
   and checked against the root (goal: p95 < 10 ms at 1,000,000 leaves).

BENCH_EXPORT_SIZES=small,large and BENCH_VERIFY_EVENTS change the sizes for a quick look;
BENCH_XLSX_MAX skips XLSX above a size (openpyxl writes a few thousand rows a second).
Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import ROOT, django_ready, emit, goal, own_database, scaled, staff
from bench.common import say as common_say
from verifier import saring_verify

_SIZES = os.environ.get("BENCH_EXPORT_SIZES")
SMALL, LARGE = (
    [int(s) for s in _SIZES.split(",")]
    if _SIZES
    # The small size holds several of the DSA export's 5,000-statement chunks (3 decisions in
    # 8 are approved takedowns): below one chunk its memory says nothing about growth.
    else [scaled(full=30_000, smoke=500), scaled(full=1_000_000, smoke=2_000)]
)
XLSX_MAX = int(os.environ.get("BENCH_XLSX_MAX") or LARGE)
VERIFY_EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS") or scaled(full=1_000_000, smoke=2_000))
FORMATS = ["csv", "jsonl", "xlsx", "dsa"]
GOAL_CSV_ROWS_PER_S = 50_000
GOAL_GROWTH_RATIO = 1.2
GOAL_SEALED_PER_S = 5_000  # the transparency-log issue's goals
GOAL_VERIFY_PER_S = 200_000
GOAL_PROOF_MS = 10
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
WIB = ZoneInfo("Asia/Jakarta")
CATEGORIES = ["prostitution", "pornography", "gambling", "fraud", "drugs", "terrorism"]
# Matches no decision: the warm-up export before the measured one.
NOTHING = {"date_from": "2999-01-01"}


def say(message: str) -> None:
    common_say("export", message)


# --- The child process: one export, as the RQ worker runs it --------------------------------


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/self/status")


def child_export(export_id: int, warm_up_id: int) -> None:
    """Run one export and print its rows, seconds and memory growth as JSON."""
    django_ready(migrate=False)
    from moderation.audit.jobs import export_job
    from moderation.models import Export

    export_job(warm_up_id)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak-RSS mark := RSS now
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    export_job(export_id)
    seconds = time.perf_counter() - started
    growth = _status_kib("VmHWM") - before
    export = Export.objects.get(pk=export_id)
    export.file.delete(save=False)  # a 1M-row DSA file is gigabytes
    print(
        json.dumps(
            {
                "status": export.status,
                "rows": export.rows,
                "seconds": seconds,
                "growth_mb": growth / 1024,
                "rss_before_mb": before / 1024,
            }
        )
    )


# --- The parent: the database, the seed, the runs -------------------------------------------


def seed_people() -> tuple[list[int], list[int], object, list[int], int]:
    from accounts.models import Platform
    from moderation.models import LegalBasis

    moderators = [staff(f"mod{i}", "Moderator")[0].pk for i in range(8)]
    supervisors = [staff(f"sup{i}", "Supervisor")[0].pk for i in range(3)]
    auditor, _ = staff("auditor", "Auditor")
    platforms = [
        Platform.objects.create(
            slug=slug,
            name=slug.title(),
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="s" * 40,
            callback_secret="c" * 40,
        ).pk
        for slug in ("michat", "whatsapp", "telegram")
    ]
    basis = LegalBasis.objects.create(
        code="uu-ite-27-1",
        title="UU ITE Pasal 27 ayat (1)",
        categories=["prostitution", "pornography"],
    ).pk
    return moderators, supervisors, auditor, platforms, basis


def seed_decisions(url: str, *, start: int, stop: int, people) -> None:
    """Decisions start..stop-1 (0-based), with their accounts, cases, approvals, requests."""
    import psycopg

    moderators, supervisors, _, platforms, basis = people
    n = stop - start
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_chataccount")
        first_account = cur.fetchone()[0] + 1
        now = BASE_TIME
        with cur.copy(
            "COPY accounts_chataccount (id, platform_id, identifier, identifier_kind,"
            " display_name, profile_url, phone_numbers, status, first_reported_at,"
            " last_reported_at, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                k = start + i
                copy.write_row(
                    (
                        first_account + i,
                        platforms[k % 3],
                        f"acct{k}",
                        "handle",
                        f"Akun {k}",
                        "",
                        [],
                        "taken_down",
                        now,
                        now,
                        now,
                        now,
                    )
                )
        with cur.copy(
            "COPY moderation_case (id, account_id, status, category, urgent, report_count,"
            " reporter_count, source_kinds, priority, opened_at, last_report_at, closed_at,"
            " version, updated_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                k = start + i
                kinds = ("ministry", "police", "public", "ministry,public")[k % 4]
                copy.write_row(
                    (
                        first_account + i,
                        first_account + i,
                        "closed",
                        CATEGORIES[k % 6],
                        k % 6 == 5,
                        1 + k % 3,
                        1 + k % 2,
                        kinds,
                        1.0,
                        now,
                        now,
                        now,
                        2,
                        now,
                    )
                )
        with cur.copy(
            "COPY moderation_decision (id, case_id, moderator_id, outcome, category,"
            " legal_basis_id, urgency, rationale, case_version, created_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                k = start + i
                outcome = ("propose_takedown", "propose_takedown", "dismiss", "escalate")[k % 4]
                copy.write_row(
                    (
                        first_account + i,
                        first_account + i,
                        moderators[k % len(moderators)],
                        outcome,
                        CATEGORIES[k % 6],
                        basis if outcome == "propose_takedown" else None,
                        "normal",
                        f"Profile {k} advertises open BO with a price list.",
                        1,
                        BASE_TIME + timedelta(seconds=k * 30),
                    )
                )
        # Takedown proposals: three in four approved (with a request), the rest rejected.
        proposals = [i for i in range(n) if (start + i) % 4 in (0, 1)]
        with cur.copy(
            "COPY moderation_approval (id, decision_id, decision_author_id, supervisor_id,"
            " verdict, comment, created_at) FROM STDIN"
        ) as copy:
            for i in proposals:
                k = start + i
                copy.write_row(
                    (
                        first_account + i,
                        first_account + i,
                        moderators[k % len(moderators)],
                        supervisors[k % len(supervisors)],
                        "rejected" if k % 8 == 1 else "approved",
                        "" if k % 8 != 1 else "Evidence too thin.",
                        BASE_TIME + timedelta(seconds=k * 30 + 600),
                    )
                )
        statuses = ["taken_down", "taken_down", "acknowledged", "refused", "failed", "not_found"]
        with cur.copy(
            "COPY moderation_takedownrequest (id, approval_id, case_id, platform_id, account_id,"
            " category, legal_basis, urgency, summary, issued_at, deadline, status, attempts,"
            " last_error, operator_reference, resolved_at, warning_level, updated_at)"
            " FROM STDIN"
        ) as copy:
            for i in proposals:
                k = start + i
                if k % 8 == 1:
                    continue
                issued = BASE_TIME + timedelta(seconds=k * 30 + 600)
                copy.write_row(
                    (
                        uuid.uuid4(),
                        first_account + i,
                        first_account + i,
                        platforms[k % 3],
                        first_account + i,
                        CATEGORIES[k % 6],
                        "UU ITE Pasal 27 ayat (1)",
                        "normal",
                        "Open BO account",
                        issued,
                        issued + timedelta(hours=24),
                        statuses[k % 6],
                        1,
                        "",
                        f"OP-{k}",
                        issued + timedelta(hours=3),
                        0,
                        issued,
                    )
                )
        # Public reports with contact details on one case in fifty.
        with cur.copy(
            "COPY reports_report (source_kind, category, description, content_urls,"
            " account_identifier_submitted, received_at, urgent, account_id, case_id,"
            " reporter_name, reporter_email, reporter_phone, reporter_consent, receipt_code,"
            " payload_hash) FROM STDIN"
        ) as copy:
            for i in range(0, n, 50):
                k = start + i
                copy.write_row(
                    (
                        "public",
                        CATEGORIES[k % 6],
                        "Open BO",
                        [],
                        f"acct{k}",
                        now,
                        False,
                        first_account + i,
                        first_account + i,
                        f"Pelapor {k}",
                        f"p{k}@mail.example",
                        f"+62812{k:07d}",
                        True,
                        f"R{k:014d}",
                        "",
                    )
                )
        for table in (
            "accounts_chataccount",
            "moderation_case",
            "moderation_decision",
            "moderation_approval",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                f" (SELECT MAX(id) FROM {table}))"
            )
        conn.commit()
        cur.execute("ANALYZE")


# An event's columns as the bench copies them: the canonical fields but its number, its time
# (both written apart) and the old chain's field.
COPIED = tuple(
    name
    for name in saring_verify.EVENT_FIELDS
    if name not in ("sequence", "created_at", "prev_hash")
)


def seed_audit_events(url: str, count: int) -> None:
    """`count` events as writers leave them (numbered by the event sequence and stamped with
    their transaction by PostgreSQL, with their canonical bytes as the writer makes them, not
    yet sealed), in one COPY."""
    import psycopg

    from moderation.audit.services.chain import canonical_parts

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT nextval('saring_audit_event_number') FROM generate_series(1, %s)", [count]
        )
        numbers = [n for (n,) in cur.fetchall()]
        with cur.copy(
            f"COPY moderation_auditevent (sequence, canonical, created_at, {', '.join(COPIED)})"
            " FROM STDIN"
        ) as copy:
            for i, number in enumerate(numbers):
                created = BASE_TIME + timedelta(seconds=i, microseconds=i % 997)
                fields = {
                    "created_at": saring_verify.utc_iso(created),
                    "actor_kind": "user",
                    "actor_user_id": None,
                    "actor_label": f"mod{i % 8}",
                    "action": "case.claimed",
                    "subject_type": "moderation.case",
                    "subject_id": str(i + 1),
                    "subject_label": f"Case {i + 1}",
                    "data": {
                        "before": {"status": "open"},
                        "after": {"status": "in_review"},
                        "n": i,
                    },
                    "ip_address": "10.0.0.1",
                    "prev_hash": "",
                }
                head, tail = canonical_parts(fields)
                copy.write_row(
                    (
                        number,
                        f"{head}{number}{tail}".encode(),
                        created,
                        *(json.dumps(fields[n]) if n == "data" else fields[n] for n in COPIED),
                    )
                )
        conn.commit()
        cur.execute("ANALYZE moderation_auditevent")


def seal_events() -> dict:
    """Seal every event with the sequencer's own function, in its batches; time it."""
    from django.db import connections

    from moderation.audit.services import log

    started, sealed = time.perf_counter(), 0
    while batch := log.seal_pending():
        sealed += batch
    seconds = time.perf_counter() - started
    connections.close_all()
    return {"events": sealed, "seconds": seconds, "events_per_s": sealed / seconds}


def time_proofs(samples: int = 1000) -> dict:
    """Inclusion proofs for random leaves of the whole tree, each checked against the root."""
    import random

    from django.db import connections

    from moderation.audit.services import log

    head = log.latest_head()
    log.inclusion_proof(0, head.size)  # the connection open, the code loaded
    rng = random.Random(12)
    times = []
    for index in (rng.randrange(head.size) for _ in range(samples)):
        started = time.perf_counter()
        proof = log.inclusion_proof(index, head.size)
        times.append((time.perf_counter() - started) * 1000)
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT hash FROM moderation_auditleaf WHERE index = %s", [index])
            leaf = bytes(cursor.fetchone()[0])
        if not saring_verify.verify_inclusion(index, head.size, leaf, proof, head.root):
            raise SystemExit(f"the inclusion proof of leaf {index} does not verify")
    times.sort()
    connections.close_all()
    return {
        "leaves": head.size,
        "p50_ms": times[len(times) // 2],
        "p95_ms": times[int(len(times) * 0.95)],
        "hashes": len(proof),
    }


def run_export(auditor, fmt: str, filters: dict[str, str]) -> dict:
    """One export in a fresh process; its figures."""
    from moderation.models import Export

    warm_up = Export.objects.create(requested_by=auditor, format=fmt, filters=NOTHING)
    export = Export.objects.create(requested_by=auditor, format=fmt, filters=filters)
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        # As a module, so that bench/ (with its queue.py) is not first on sys.path.
        [sys.executable, "-m", "bench.export", "--child-export", str(export.pk), str(warm_up.pk)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"export {fmt} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "done":
        raise SystemExit(f"export {fmt} ended {result['status']}")
    return {**result, "rows_per_s": result["rows"] / result["seconds"]}


def month_filters(size: int) -> tuple[dict[str, str], datetime, datetime]:
    """One platform and the WIB month of the middle decision, as the export form gives them."""
    from moderation.audit.forms import ExportRequestForm

    middle = (BASE_TIME + timedelta(seconds=size // 2 * 30)).astimezone(WIB)
    first = date(middle.year, middle.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    form = ExportRequestForm(
        {
            "platform": "michat",
            "date_from": first.isoformat(),
            "date_to": (following - timedelta(days=1)).isoformat(),
            "format": "csv",
        }
    )
    if not form.is_valid():
        raise SystemExit(f"the export form refused the filters: {form.errors.as_text()}")
    start = datetime(first.year, first.month, first.day, tzinfo=WIB)
    end = datetime(following.year, following.month, following.day, tzinfo=WIB)
    return form.filters(), start, end


def matching_decisions(platform: str, start: datetime, end: datetime) -> int:
    """The filtered export's rows, counted in plain SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM moderation_decision d"
            " JOIN moderation_case c ON c.id = d.case_id"
            " JOIN accounts_chataccount a ON a.id = c.account_id"
            " JOIN accounts_platform p ON p.id = a.platform_id"
            " WHERE p.slug = %s AND d.created_at >= %s AND d.created_at < %s",
            [platform, start, end],
        )
        return cursor.fetchone()[0]


def approved_takedowns() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM moderation_decision d"
            " JOIN moderation_approval a ON a.decision_id = d.id"
            " WHERE d.outcome = 'propose_takedown' AND a.verdict = 'approved'"
        )
        return cursor.fetchone()[0]


def verify_log() -> dict:
    """`manage.py audit_verify` in its own process: every leaf recomputed from its event."""
    started = time.perf_counter()
    out = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"audit_verify failed:\n{out.stdout}{out.stderr}")
    words = out.stdout.split("intact: ")[1].split()
    events, seconds = int(words[0]), float(words[4])
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds, "wall": wall}


def main() -> int:
    # Stopped with SIGTERM, still drop the database (and stop the servers) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[tuple[str, int], dict] = {}
    with own_database("export") as url:
        django_ready()
        from moderation.audit.services.exports import CHUNK_ROWS

        people = seed_people()
        auditor = people[2]
        seeded = 0
        for size in (SMALL, LARGE):
            started = time.perf_counter()
            seed_decisions(url, start=seeded, stop=size, people=people)
            say(f"seeded {size:,} decisions in {time.perf_counter() - started:.1f} s")
            seeded = size
            for fmt in FORMATS:
                if fmt == "xlsx" and size > XLSX_MAX:
                    continue
                result = run_export(auditor, fmt, {})
                # DSA statements are the approved takedowns only (3 decisions in 8 here).
                expected = approved_takedowns() if fmt == "dsa" else size
                if result["rows"] != expected:
                    raise SystemExit(f"{fmt} exported {result['rows']:,} rows, not {expected:,}")
                results[fmt, size] = result
                say(
                    f"{fmt:5} {size:>9,} rows {result['seconds']:7.2f} s "
                    f"{result['rows_per_s']:9,.0f} rows/s  +{result['growth_mb']:.1f} MB"
                )
        filters, start, end = month_filters(LARGE)
        filtered = run_export(auditor, "csv", filters)
        expected = matching_decisions(filters["platform"], start, end)
        if filtered["rows"] != expected:
            raise SystemExit(f"the filtered export has {filtered['rows']:,} rows, not {expected:,}")
        started = time.perf_counter()
        seed_audit_events(url, VERIFY_EVENTS)
        say(f"seeded {VERIFY_EVENTS:,} audit events in {time.perf_counter() - started:.1f} s")
        sealing = seal_events()
        say(f"sealed {sealing['events']:,} events in {sealing['seconds']:.1f} s")
        verify = verify_log()
        proofs = time_proofs()

    growth_ratios = {
        fmt: results[fmt, LARGE]["growth_mb"] / max(results[fmt, SMALL]["growth_mb"], 1 / 1024)
        for fmt in FORMATS
        if (fmt, LARGE) in results
    }
    worst = max(growth_ratios.values())
    csv_rate = results["csv", LARGE]["rows_per_s"]
    print()
    print(
        f"  {'format':<7}{'decisions':>11}{'seconds':>10}{'rows/s':>11}"
        f"{'RSS before':>12}{'growth':>10}"
    )
    for (fmt, size), r in results.items():
        print(
            f"  {fmt:<7}{size:>11,}{r['seconds']:>10.2f}{r['rows_per_s']:>11,.0f}"
            f"{r['rss_before_mb']:>9.1f} MB{r['growth_mb']:>7.1f} MB"
        )
    if SMALL < CHUNK_ROWS:
        print(
            f"  (below one chunk of {CHUNK_ROWS:,} rows memory grows with the rows: "
            "the memory goal means something at sizes above it)"
        )
    if XLSX_MAX < LARGE:
        print(f"  (XLSX not measured at {LARGE:,}: BENCH_XLSX_MAX={XLSX_MAX:,})")
    print(
        "  memory growth, large / small: "
        + ", ".join(f"{fmt} {ratio:.2f}" for fmt, ratio in growth_ratios.items())
        + f"; worst {worst:.2f} (goal <= {GOAL_GROWTH_RATIO}): {goal(worst <= GOAL_GROWTH_RATIO)}"
    )
    print(
        f"  CSV at {LARGE:,}: {csv_rate:,.0f} rows/s (goal >= {GOAL_CSV_ROWS_PER_S:,}): "
        f"{goal(csv_rate >= GOAL_CSV_ROWS_PER_S)}"
    )
    print(
        f"  filtered CSV ({filters['platform']}, {filters['date_from']} to {filters['date_to']}"
        f" WIB) at {LARGE:,}: {filtered['rows']:,} rows in {filtered['seconds']:.2f} s"
    )
    print(
        f"  audit log, sealing: {sealing['events']:,} events in {sealing['seconds']:.1f} s = "
        f"{sealing['events_per_s']:,.0f} events/s (goal >= {GOAL_SEALED_PER_S:,}): "
        f"{goal(sealing['events_per_s'] >= GOAL_SEALED_PER_S)}"
    )
    print(
        f"  audit_verify: {verify['events']:,} leaves in {verify['seconds']:.1f} s = "
        f"{verify['events_per_s']:,.0f} events/s (goal >= {GOAL_VERIFY_PER_S:,}): "
        f"{goal(verify['events_per_s'] >= GOAL_VERIFY_PER_S)}; {verify['wall']:.1f} s with "
        "the process start"
    )
    print(
        f"  inclusion proof at {proofs['leaves']:,} leaves ({proofs['hashes']} hashes): "
        f"p50 {proofs['p50_ms']:.2f} ms, p95 {proofs['p95_ms']:.2f} ms "
        f"(goal < {GOAL_PROOF_MS} ms): {goal(proofs['p95_ms'] < GOAL_PROOF_MS)}"
    )
    print()
    figures: dict[str, float] = {}
    for fmt in FORMATS:
        if (fmt, LARGE) in results:
            figures[f"{fmt}_rows_per_s"] = round(results[fmt, LARGE]["rows_per_s"])
            figures[f"{fmt}_growth_mb"] = round(results[fmt, LARGE]["growth_mb"], 1)
            figures[f"{fmt}_growth_mb_small"] = round(results[fmt, SMALL]["growth_mb"], 1)
            figures[f"{fmt}_memory_growth_ratio"] = round(growth_ratios[fmt], 3)
    emit(
        {
            "bench": "export",
            "sizes": [SMALL, LARGE],
            "csv_rows_per_s": round(csv_rate),
            "memory_growth_ratio": round(worst, 3),
            **figures,
            "filtered_export_s": round(filtered["seconds"], 3),
            "filtered_rows": filtered["rows"],
            "verify_events": verify["events"],
            "verify_events_per_s": round(verify["events_per_s"]),
            "sealed_per_s": round(sealing["events_per_s"]),
            "inclusion_proof_ms_p50": round(proofs["p50_ms"], 3),
            "inclusion_proof_ms_p95": round(proofs["p95_ms"], 3),
            "proof_leaves": proofs["leaves"],
            "log_goals_met": sealing["events_per_s"] >= GOAL_SEALED_PER_S
            and verify["events_per_s"] >= GOAL_VERIFY_PER_S
            and proofs["p95_ms"] < GOAL_PROOF_MS,
            "goal_met": csv_rate >= GOAL_CSV_ROWS_PER_S and worst <= GOAL_GROWTH_RATIO,
        }
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child-export":
        child_export(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(main())
