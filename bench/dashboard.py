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
RENDERS = 7
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
DATA_TABLES = (
    "reports_evidence, moderation_deliveryattempt, moderation_takedownrequest, "
    "moderation_approval, moderation_decision, moderation_casenote, reports_report, "
    "moderation_case, accounts_chataccount, moderation_dashboarddaily, "
    "moderation_dashboardrefresh"
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


def main() -> int:
    base_url = os.environ["DATABASE_URL"]
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    bench_url = _db_url(base_url, BENCH_DB)
    os.environ["DATABASE_URL"] = bench_url
    try:
        return run(bench_url)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def run(bench_url: str) -> int:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Platform
    from moderation.models import LegalBasis
    from moderation.services.dashboard import dashboard_refresh
    from reports.models import SourceOrganisation

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
    client = Client()
    client.force_login(User.objects.get(username="supervisor0"))

    results = {}
    for size in SIZES:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {DATA_TABLES} CASCADE")
        now = timezone.now()
        started = time.perf_counter()
        with psycopg.connect(bench_url) as conn:
            counts = seed(conn, reports=size, refs=refs, now=now)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        dashboard_refresh()
        refresh_ms = (time.perf_counter() - started) * 1000
        timings = {}
        for days in (30, 90):
            url = f"/supervision/?days={days}"
            response = client.get(url)  # warm-up
            assert response.status_code == 200, response.status_code
            samples = []
            for _ in range(RENDERS):
                started = time.perf_counter()
                response = client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            timings[days] = statistics.median(samples)
            if os.environ.get("DASHBOARD_BENCH_QUERIES"):
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as queries:
                    client.get(url)
                for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]:
                    print(f"  {size} {days}d {float(q['time']) * 1000:7.1f} ms {q['sql'][:150]}")
        results[size] = {"counts": counts, "seed_s": seeded, "refresh_ms": refresh_ms, **timings}
        print(
            f"seeded {size:>9,} reports in {seeded:6.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
            flush=True,
        )

    small, large = results[SIZES[0]], results[SIZES[-1]]
    print()
    print(f"{'reports':>10} | {'30 days ms':>10} | {'90 days ms':>10} | {'refresh ms':>10}")
    print("-" * 50)
    for size in SIZES:
        r = results[size]
        print(f"{size:>10,} | {r[30]:>10.1f} | {r[90]:>10.1f} | {r['refresh_ms']:>10.1f}")
    ratio30 = large[30] / small[30]
    ratio90 = large[90] / small[90]
    print(f"{'ratio':>10} | {ratio30:>10.2f} | {ratio90:>10.2f} |")
    print(f"(median of {RENDERS} renders; refresh = the beat task's summary rewrite)")
    print(
        json.dumps(
            {
                "bench": "dashboard",
                "ratio_large_small": round(max(ratio30, ratio90), 3),
                "ratio_30_days": round(ratio30, 3),
                "ratio_90_days": round(ratio90, 3),
                "ms_small_30": round(small[30], 1),
                "ms_large_30": round(large[30], 1),
                "ms_small_90": round(small[90], 1),
                "ms_large_90": round(large[90], 1),
                "refresh_ms_large": round(large["refresh_ms"], 1),
                "reports_small": small["counts"]["reports"],
                "reports_large": large["counts"]["reports"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
