"""Benchmark: the supervisor dashboard renders in the same time at 1,000 and 1,000,000 reports.

    make bench BENCH=dashboard

Creates its own database (dropped at the end), migrates it, seeds a realistic history with
COPY (psycopg 3): reports spread over 90 days from the four kinds of source, about three
reports per account, one case per account, a decision on most cases older than a day,
approvals and takedown requests for most proposals, operators that mostly comply, some late,
some overdue. After seeding it runs the summary refresh (what Celery beat does every few
minutes), then renders the dashboard through Django's test client signed in as a
supervisor: the median of several renders per size and window. The last line printed is one
JSON object.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"

# Smaller sizes for a quick try: DASHBOARD_BENCH_SIZES=1000,20000 make bench BENCH=dashboard
SIZES = tuple(int(n) for n in os.environ.get("DASHBOARD_BENCH_SIZES", "1000,1000000").split(","))
RENDERS = 9
BENCH_DB = "saring_bench_dashboard"
SOURCES = (("ministry", 0.45), ("police", 0.15), ("agency", 0.05), ("public", 0.35))
CATEGORIES = (
    ("prostitution", 0.55),
    ("pornography", 0.15),
    ("gambling", 0.12),
    ("fraud", 0.08),
    ("drugs", 0.03),
    ("child_sexual_abuse", 0.02),
    ("terrorism", 0.01),
    ("disinformation", 0.04),
)


def _db_url(base: str, name: str) -> str:
    head, _, query = base.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def _pick(rng: random.Random, weighted) -> str:
    roll, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if roll < acc:
            return value
    return weighted[0][0]


def seed(conn: psycopg.Connection, *, reports: int, refs: dict, now: datetime) -> dict:
    """Write `reports` reports and everything that follows from them; returns row counts."""
    rng = random.Random(reports)
    platforms, orgs = refs["platforms"], refs["orgs"]
    moderators, supervisors, basis = refs["moderators"], refs["supervisors"], refs["basis"]
    window = 90 * 24 * 3600
    accounts = []  # (id, platform, first, reports times, category, phone)
    report_id = 0
    account_id = 0
    while report_id < reports:
        account_id += 1
        k = min(1 + int(rng.expovariate(1 / 2.0)), reports - report_id)
        first = now - timedelta(seconds=rng.random() * window)
        times = sorted(
            min(first + timedelta(hours=rng.expovariate(1 / 20)), now) for _ in range(k - 1)
        )
        accounts.append((account_id, rng.choice(platforms), first, [first, *times]))
        report_id += k
    counts = {"accounts": len(accounts), "reports": report_id}
    cases, decisions, approvals, requests = [], [], [], []
    with conn.cursor() as cur:
        with cur.copy(
            "COPY accounts_chataccount (id, platform_id, identifier, identifier_kind, "
            "display_name, profile_url, phone_numbers, status, first_reported_at, "
            "last_reported_at, created_at, updated_at) FROM STDIN"
        ) as copy:
            for aid, platform, first, times in accounts:
                phone = f"+62812{aid:08d}"
                is_phone = aid % 5 < 2
                copy.write_row(
                    (
                        aid,
                        platform,
                        phone if is_phone else f"akun{aid}",
                        "phone" if is_phone else "handle",
                        f"Akun {aid}",
                        "",
                        [phone] if is_phone or aid % 7 == 0 else [],
                        "under_review",
                        first,
                        times[-1],
                        first,
                        times[-1],
                    )
                )
        decision_id = approval_id = 0
        for aid, platform, first, times in accounts:
            category = _pick(rng, CATEGORIES)
            age_h = (now - first).total_seconds() / 3600
            status, closed = "open", None
            if age_h > 24 and rng.random() < 0.97 or age_h > 2 and rng.random() < 0.5:
                decided = first + timedelta(hours=min(rng.lognormvariate(1.6, 0.9), age_h))
                decided = min(decided, now)
                decision_id += 1
                moderator = rng.choice(moderators)
                outcome = _pick(
                    rng, (("dismiss", 0.5), ("propose_takedown", 0.45), ("escalate", 0.05))
                )
                decisions.append((decision_id, aid, moderator, outcome, category, decided))
                status = {"dismiss": "dismissed", "escalate": "escalated"}.get(outcome, "proposed")
                # A supervisor settles an escalation within a couple of days.
                settled = (now - decided).total_seconds() > 48 * 3600
                if outcome == "escalate" and settled:
                    status, closed = "dismissed", decided + timedelta(hours=30)
                if outcome == "dismiss":
                    closed = decided
                if outcome == "propose_takedown" and decided + timedelta(hours=2) < now:
                    approved = decided + timedelta(hours=rng.expovariate(1 / 1.5))
                    approved = min(approved, now)
                    approval_id += 1
                    verdict = "approved" if rng.random() < 0.92 else "rejected"
                    approvals.append(
                        (
                            approval_id,
                            decision_id,
                            moderator,
                            rng.choice(supervisors),
                            verdict,
                            approved,
                        )
                    )
                    if verdict == "approved":
                        status = "approved"
                    elif (now - approved).total_seconds() > 48 * 3600:
                        status, closed = "dismissed", approved + timedelta(hours=24)
                    else:
                        status = "open"  # back in the queue with the supervisor's comment
                    if verdict == "approved":
                        urgent = category in ("child_sexual_abuse", "terrorism")
                        deadline = approved + timedelta(hours=4 if urgent else 24)
                        roll = rng.random()
                        took = timedelta(
                            hours=rng.lognormvariate(2.0, 1.0) * (0.3 if urgent else 1)
                        )
                        # Old requests are settled but for a few stuck ones (overdue).
                        settle = 0.98 if (now - approved).days > 7 else 0.92
                        if roll < 0.85 and approved + took < now:
                            rstatus, resolved = "taken_down", approved + took
                        elif roll < settle and approved + took < now:
                            rstatus, resolved = (
                                rng.choice(("refused", "not_found")),
                                approved + took,
                            )
                        else:
                            rstatus = rng.choice(("pending", "sent", "acknowledged", "failed"))
                            resolved = None
                        if resolved is not None:
                            status, closed = "closed", resolved
                        requests.append(
                            (
                                approval_id,
                                aid,
                                platform,
                                category,
                                urgent,
                                approved,
                                deadline,
                                rstatus,
                                resolved,
                            )
                        )
            cases.append((aid, aid, status, category, len(times), first, times[-1], closed))
        counts.update(
            cases=len(cases),
            decisions=len(decisions),
            approvals=len(approvals),
            requests=len(requests),
        )
        with cur.copy(
            "COPY moderation_case (id, account_id, status, category, urgent, report_count, "
            "reporter_count, source_kinds, priority, opened_at, last_report_at, closed_at, "
            "version, updated_at) FROM STDIN"
        ) as copy:
            for cid, aid, status, category, n, first, last, closed in cases:
                copy.write_row(
                    (
                        cid,
                        aid,
                        status,
                        category,
                        False,
                        n,
                        n,
                        "ministry",
                        rng.random() * 100,
                        first,
                        last,
                        closed,
                        2,
                        last,
                    )
                )
        rid = 0
        with cur.copy(
            "COPY reports_report (id, source_kind, organisation_id, external_reference, "
            "payload_hash, category, description, content_urls, account_identifier_submitted, "
            "observed_at, received_at, urgent, account_id, case_id, reporter_name, "
            "reporter_email, reporter_phone, reporter_consent, receipt_code) FROM STDIN"
        ) as copy:
            for (aid, _platform, _first, times), case in zip(accounts, cases, strict=True):
                for at in times:
                    rid += 1
                    kind = _pick(rng, SOURCES)
                    org = None if kind == "public" else orgs[kind]
                    copy.write_row(
                        (
                            rid,
                            kind,
                            org,
                            None if org is None else f"REF-{rid}",
                            "",
                            case[3],
                            "Open BO",
                            [],
                            f"akun{aid}",
                            None,
                            at,
                            False,
                            aid,
                            aid,
                            "",
                            "",
                            "",
                            False,
                            f"SR-B{rid:011d}",
                        )
                    )
        with cur.copy(
            "COPY moderation_decision (id, case_id, moderator_id, outcome, category, "
            "legal_basis_id, urgency, rationale, case_version, created_at) FROM STDIN"
        ) as copy:
            for did, cid, moderator, outcome, category, at in decisions:
                copy.write_row(
                    (
                        did,
                        cid,
                        moderator,
                        outcome,
                        category,
                        basis if outcome == "propose_takedown" else None,
                        "normal",
                        "Seen on the profile.",
                        1,
                        at,
                    )
                )
        with cur.copy(
            "COPY moderation_approval (id, decision_id, decision_author_id, supervisor_id, "
            "verdict, comment, created_at) FROM STDIN"
        ) as copy:
            for row in approvals:
                aid_, did, author, supervisor, verdict, at = row
                copy.write_row((aid_, did, author, supervisor, verdict, "", at))
        with cur.copy(
            "COPY moderation_takedownrequest (id, approval_id, case_id, platform_id, account_id, "
            "category, legal_basis, urgency, summary, issued_at, deadline, status, attempts, "
            "last_error, operator_reference, resolved_at, warning_level, updated_at) FROM STDIN"
        ) as copy:
            for appr, aid, platform, category, urgent, issued, deadline, st, resolved in requests:
                copy.write_row(
                    (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        appr,
                        aid,
                        platform,
                        aid,
                        category,
                        "UU ITE Pasal 27 ayat (1)",
                        "urgent" if urgent else "normal",
                        "Takedown",
                        issued,
                        deadline,
                        st,
                        1,
                        "",
                        "",
                        resolved,
                        0,
                        resolved or issued,
                    )
                )
    conn.commit()
    return counts


def _db_name(size: int) -> str:
    return f"{BENCH_DB}_{size}"


def main() -> int:
    base_url = os.environ["DATABASE_URL"]
    with psycopg.connect(base_url, autocommit=True) as admin:
        for size in SIZES:
            admin.execute(f'DROP DATABASE IF EXISTS "{_db_name(size)}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{_db_name(size)}"')
    os.environ["DATABASE_URL"] = _db_url(base_url, _db_name(SIZES[0]))
    try:
        return run(base_url)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(base_url, autocommit=True) as admin:
            for size in SIZES:
                admin.execute(f'DROP DATABASE IF EXISTS "{_db_name(size)}" WITH (FORCE)')


def _use(size: int) -> None:
    """Point Django's connection at one size's database, connected before any timing."""
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = _db_name(size)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")


def _prepare(size: int, base_url: str) -> dict:
    """Migrate, add the reference rows, seed, vacuum, refresh; return figures and a client."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Platform
    from moderation.dashboard.services import dashboard_refresh
    from moderation.models import LegalBasis
    from reports.models import SourceOrganisation

    _use(size)
    call_command("migrate", verbosity=0)
    platforms = [
        Platform.objects.create(
            slug=slug,
            name=name,
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="s" * 32,
            callback_secret="c" * 32,
        ).pk
        for slug, name in (
            ("michat", "MiChat"),
            ("whatsapp", "WhatsApp"),
            ("telegram", "Telegram"),
            ("line", "LINE"),
            ("facebook", "Facebook Messenger"),
        )
    ]
    orgs = {
        kind: SourceOrganisation.objects.create(slug=f"org-{kind}", name=kind.title(), kind=kind).pk
        for kind in ("ministry", "police", "agency")
    }
    moderator_group = Group.objects.get(name="Moderator")
    supervisor_group = Group.objects.get(name="Supervisor")
    moderators = []
    for i in range(20):
        user = User.objects.create_user(f"moderator{i:02d}")
        user.groups.add(moderator_group)
        moderators.append(user.pk)
    supervisors = []
    for i in range(4):
        user = User.objects.create_user(f"supervisor{i}")
        user.groups.add(supervisor_group)
        supervisors.append(user.pk)
    basis = LegalBasis.objects.create(code="uu-ite-27-1", title="UU ITE Pasal 27 ayat (1)").pk
    refs = {
        "platforms": platforms,
        "orgs": orgs,
        "moderators": moderators,
        "supervisors": supervisors,
        "basis": basis,
    }
    url = _db_url(base_url, _db_name(size))
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        counts = seed(conn, reports=size, refs=refs, now=timezone.now())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    dashboard_refresh()
    refresh_ms = (time.perf_counter() - started) * 1000
    client = Client()
    client.force_login(User.objects.get(username="supervisor0"))
    print(
        f"seeded {size:>9,} reports in {seeded:6.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )
    return {"counts": counts, "seed_s": seeded, "refresh_ms": refresh_ms, "client": client}


def run(base_url: str) -> int:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {size: _prepare(size, base_url) for size in SIZES}
    samples: dict[tuple[int, int], list[float]] = {(s, d): [] for s in SIZES for d in (30, 90)}
    sql_ms: dict[tuple[int, int], list[float]] = {key: [] for key in samples}
    # Renders alternate between the sizes, so that the load of a shared machine drifting
    # during the run weighs on both alike.
    for round_ in range(RENDERS + 1):
        for size in SIZES:
            _use(size)
            client = results[size]["client"]
            for days in (30, 90):
                url = f"/supervision/?days={days}"
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                if round_ == 0:
                    continue  # warm-up
                samples[(size, days)].append(elapsed)
                sql_ms[(size, days)].append(
                    sum(float(q["time"]) for q in queries.captured_queries) * 1000
                )
                if os.environ.get("DASHBOARD_BENCH_QUERIES") and round_ == RENDERS:
                    slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]
                    for q in slow:
                        print(
                            f"  {size} {days}d {float(q['time']) * 1000:6.1f} ms {q['sql'][:110]}"
                        )

    med = {key: statistics.median(values) for key, values in samples.items()}
    med_sql = {key: statistics.median(values) for key, values in sql_ms.items()}
    small, large = SIZES[0], SIZES[-1]
    print()
    print(
        f"{'reports':>10} | {'30 days ms':>10} | {'(SQL ms)':>8} | {'90 days ms':>10} | "
        f"{'(SQL ms)':>8} | {'refresh ms':>10}"
    )
    print("-" * 74)
    for size in SIZES:
        print(
            f"{size:>10,} | {med[(size, 30)]:>10.1f} | {med_sql[(size, 30)]:>8.1f} | "
            f"{med[(size, 90)]:>10.1f} | {med_sql[(size, 90)]:>8.1f} | "
            f"{results[size]['refresh_ms']:>10.1f}"
        )
    ratio30 = med[(large, 30)] / med[(small, 30)]
    ratio90 = med[(large, 90)] / med[(small, 90)]
    print(f"{'ratio':>10} | {ratio30:>10.2f} | {'':>8} | {ratio90:>10.2f} |")
    print(
        f"(median of {RENDERS} renders each, sizes interleaved; SQL = time in queries; "
        "refresh = the Celery beat task's summary rewrite, not part of a render)"
    )
    print(
        json.dumps(
            {
                "bench": "dashboard",
                "ratio_large_small": round(max(ratio30, ratio90), 3),
                "ratio_30_days": round(ratio30, 3),
                "ratio_90_days": round(ratio90, 3),
                "ms_small_30": round(med[(small, 30)], 1),
                "ms_large_30": round(med[(large, 30)], 1),
                "ms_small_90": round(med[(small, 90)], 1),
                "ms_large_90": round(med[(large, 90)], 1),
                "refresh_ms_large": round(results[large]["refresh_ms"], 1),
                "reports_small": results[small]["counts"]["reports"],
                "reports_large": results[large]["counts"]["reports"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
