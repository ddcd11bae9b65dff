"""Benchmark: decision-log exports at 10,000 and 1,000,000 decisions, and chain verification.

    make bench BENCH=export                  # the full run
    BENCH_EXPORT_SIZES=10000,100000 make bench BENCH=export   # smaller sizes
    BENCH_XLSX_MAX=200000                   # the largest size XLSX is measured at (default 1M)

A dedicated database is created (and dropped at the end) next to the one in DATABASE_URL,
migrated, and seeded with PostgreSQL COPY through psycopg 3: platforms, accounts, closed
cases, decisions, approvals (four-eyes respected), takedown requests and a few public reports
with contact details. Each export runs in a fresh Python process exactly as the RQ job does
(`export_run`), which reports its rows, seconds and its own peak RSS (VmHWM). The audit
chain is seeded with 1,000,000 valid events (hashed here with the app's canonical function,
COPY'd in — inserts are allowed by the trigger) and `manage.py verify_audit_chain` is timed.
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SIZES = [int(s) for s in os.environ.get("BENCH_EXPORT_SIZES", "10000,100000,1000000").split(",")]
# openpyxl writes XLSX at a few thousand rows a second: 1M rows would take well over the
# ~5 minutes allowed, so by default XLSX is measured up to 100,000 rows (set it higher to try).
XLSX_MAX = int(os.environ.get("BENCH_XLSX_MAX", "100000"))
VERIFY_EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "1000000"))
FORMATS = ["csv", "jsonl", "dsa", "xlsx"]
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
CATEGORIES = ["prostitution", "pornography", "gambling", "fraud", "drugs", "terrorism"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the child process: one export, or nothing else ------------------------------------


def peak_rss_kib() -> int:
    """This process image's own peak RSS. Not ru_maxrss: Linux carries the parent's RSS at
    fork over an exec into it, so a child of a big parent would report the parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_export(export_id: int) -> None:
    import django

    django.setup()
    from moderation.audit.services.exports import export_run

    started = time.perf_counter()
    export = export_run(export_id=export_id)
    seconds = time.perf_counter() - started
    peak_kb = peak_rss_kib()
    print(
        json.dumps(
            {
                "rows": export.rows,
                "seconds": seconds,
                "peak_mb": peak_kb / 1024,
                "status": export.status,
            }
        )
    )


# --- the parent: database, seeding, runs -----------------------------------------------


def bench_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"saring_bench_export_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_url.partition("?")
    return name, f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_people():
    from django.contrib.auth.models import Group, User

    from accounts.models import Platform
    from config.roles import Role
    from moderation.models import LegalBasis

    def user(name: str, role: Role) -> User:
        person = User.objects.create_user(name, f"{name}@bench.example", "x" * 20)
        person.groups.add(Group.objects.get_or_create(name=str(role))[0])
        return person

    moderators = [user(f"mod{i}", Role.MODERATOR).pk for i in range(8)]
    supervisors = [user(f"sup{i}", Role.SUPERVISOR).pk for i in range(3)]
    auditor = user("auditor", Role.AUDITOR)
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
    basis = LegalBasis.objects.create(code="uu-ite-27-1", title="UU ITE Pasal 27 ayat (1)").pk
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


def seed_audit_chain(url: str, count: int) -> None:
    """`count` valid events after the current head, hashed with the app's own function."""
    import psycopg

    from moderation.audit import GENESIS_HASH, canonical_fields, event_hash

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT sequence, hash FROM moderation_auditevent ORDER BY sequence DESC LIMIT 1"
        )
        head = cur.fetchone()
        sequence, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
        with cur.copy(
            "COPY moderation_auditevent (sequence, created_at, actor_kind, actor_user_id,"
            " actor_label, action, subject_type, subject_id, subject_label, data, ip_address,"
            " prev_hash, hash) FROM STDIN"
        ) as copy:
            for i in range(count):
                sequence += 1
                created = BASE_TIME + timedelta(seconds=i, microseconds=i % 997)
                data = {"before": {"status": "open"}, "after": {"status": "in_review"}, "n": i}
                fields = canonical_fields(
                    sequence=sequence,
                    created_at=created,
                    actor_kind="user",
                    actor_user_id=None,
                    actor_label=f"mod{i % 8}",
                    action="case.claimed",
                    subject_type="moderation.case",
                    subject_id=str(i + 1),
                    subject_label=f"Case {i + 1}",
                    data=data,
                    ip_address="10.0.0.1",
                    prev_hash=prev,
                )
                digest = event_hash(fields)
                copy.write_row(
                    (
                        sequence,
                        created,
                        "user",
                        None,
                        fields["actor_label"],
                        "case.claimed",
                        "moderation.case",
                        str(i + 1),
                        fields["subject_label"],
                        json.dumps(data),
                        "10.0.0.1",
                        prev,
                        digest,
                    )
                )
                prev = digest
        conn.commit()
        cur.execute("ANALYZE moderation_auditevent")


def run_export(env: dict, auditor, fmt: str) -> dict:
    from moderation.models import Export

    export = Export.objects.create(requested_by=auditor, format=fmt, filters={})
    out = subprocess.run(
        # As a module, so that bench/ (with its queue.py) is not first on sys.path.
        [sys.executable, "-m", "bench.export", "--child-export", str(export.pk)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"export {fmt} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    admin_url = os.environ["DATABASE_URL"]
    name, url = bench_database(admin_url)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    results: list[dict] = []
    verify: dict = {}
    try:
        call_command("migrate", verbosity=0)
        people = seed_people()
        seeded = 0
        for size in SIZES:
            started = time.perf_counter()
            seed_decisions(url, start=seeded, stop=size, people=people)
            log(f"seeded {size:,} decisions in {time.perf_counter() - started:.1f} s")
            seeded = size
            for fmt in FORMATS:
                if fmt == "xlsx" and size > XLSX_MAX:
                    continue
                result = run_export(env, people[2], fmt)
                assert result["status"] == "done" and result["rows"] == size, result
                result.update(size=size, format=fmt, rows_per_s=result["rows"] / result["seconds"])
                results.append(result)
                log(
                    f"  {fmt:5} {size:>9,} rows  {result['seconds']:7.2f} s  "
                    f"{result['rows_per_s']:9,.0f} rows/s  peak {result['peak_mb']:.0f} MB"
                )
        started = time.perf_counter()
        seed_audit_chain(url, VERIFY_EVENTS)
        log(f"seeded {VERIFY_EVENTS:,} audit events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "manage.py", "verify_audit_chain"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if out.returncode != 0:
            raise RuntimeError(out.stdout + out.stderr)
        events = int(out.stdout.split("intact: ")[1].split(" events")[0])
        verify = {"events": events, "seconds": seconds, "events_per_s": events / seconds}
    finally:
        connections.close_all()
        drop_database(admin_url, name)

    print()
    print(f"{'format':<7}{'decisions':>11}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    for r in results:
        print(
            f"{r['format']:<7}{r['size']:>11,}{r['seconds']:>10.2f}{r['rows_per_s']:>12,.0f}"
            f"{r['peak_mb']:>10.1f}"
        )
    skipped = [s for s in SIZES if s > XLSX_MAX]
    if skipped:
        print(
            f"(XLSX not measured at {', '.join(f'{s:,}' for s in skipped)}:"
            f" BENCH_XLSX_MAX={XLSX_MAX:,})"
        )
    print(
        f"verify_audit_chain: {verify['events']:,} events in {verify['seconds']:.1f} s "
        f"= {verify['events_per_s']:,.0f} events/s (wall clock, incl. process start)"
    )

    small, large = min(SIZES), max(SIZES)

    def pick(fmt: str, size: int) -> dict | None:
        return next((r for r in results if r["format"] == fmt and r["size"] == size), None)

    def largest(fmt: str) -> dict:
        return max((r for r in results if r["format"] == fmt), key=lambda r: r["size"])

    # Peak memory of each format at its largest measured size over its peak at the smallest.
    ratios = [largest(f)["peak_mb"] / pick(f, small)["peak_mb"] for f in FORMATS]
    csv_large = pick("csv", large)
    print(
        f"CSV at {large:,}: {csv_large['rows_per_s']:,.0f} rows/s (goal >= 50,000); "
        f"worst peak-memory ratio (largest/{small:,}): {max(ratios):.2f} (goal <= 1.2)"
    )
    print(
        json.dumps(
            {
                "bench": "export",
                "csv_rows_per_s": round(csv_large["rows_per_s"]),
                "peak_mem_ratio": round(max(ratios), 3),
                "verify_events_per_s": round(verify["events_per_s"]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child-export":
        child_export(int(sys.argv[2]))
    else:
        sys.exit(main())
