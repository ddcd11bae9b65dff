# ruff: noqa: S106, S608 - fixed demo secrets and table names, no outside input
"""Batch intake of 100,000 reports over real HTTP into a database already holding 1,000,000.

    make bench BENCH=intake

1. Creates a dedicated database (dropped at the end), migrates it and seeds 1,000,000
   reports on 250,000 accounts and cases with COPY (psycopg 3).
2. Starts gunicorn on a free loopback port and sends 100,000 reports in batches of 500 to
   POST /api/v1/reports/batch/ from a few client threads: new accounts (phone numbers in
   several formats and handles, many reported more than once) and accounts already known.
3. The raw ceiling: the same 100,000 report rows (accounts and cases already resolved)
   inserted with psycopg `executemany` into the same table, in the same run.

Prints a table and, as its last line, one JSON object. Sizes can be scaled down with
BENCH_SEED_REPORTS / BENCH_REPORTS for a quick look.
"""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_REPORTS = int(os.environ.get("BENCH_SEED_REPORTS", 1_000_000))
REPORTS = int(os.environ.get("BENCH_REPORTS", 100_000))
BATCH = 500
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 3))
REPORTS_PER_SEEDED_ACCOUNT = 4
DB_NAME = "saring_bench_intake"
CATEGORIES = ["prostitution"] * 6 + ["gambling", "fraud", "pornography", "drugs"]


def say(message: str) -> None:
    print(f"[intake bench] {message}", flush=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def recreate_database(url: str) -> str:
    admin = with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return with_database(url, DB_NAME)


def drop_database(url: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_sources() -> tuple[dict[str, int], int, str]:
    from moderation.audit import Actor
    from moderation.takedowns import platform_configure
    from reports.models import SourceOrganisation
    from reports.services.tokens import api_token_issue

    platforms = {}
    for slug, pattern in [
        ("michat", r"michat\.(?:com|id)/(?:u/|profile/)?@?([A-Za-z0-9_.]+)"),
        ("telegram", r"t\.me/@?([A-Za-z0-9_]{4,})"),
        ("whatsapp", r"wa\.me/(\+?\d{8,15})"),
    ]:
        platform, _ = platform_configure(
            slug=slug,
            actor=Actor.system("bench"),
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="bench-signing-secret-0123456789abcdef",
            callback_secret="bench-callback-secret-0123456789abcdef",
        )
        platform.profile_url_pattern = pattern
        platform.save(update_fields=["profile_url_pattern"])
        platforms[slug] = platform.pk
    org, _ = SourceOrganisation.objects.get_or_create(
        slug="kominfo", defaults={"name": "Komdigi", "kind": "ministry"}
    )
    _, token = api_token_issue(organisation=org, label="bench")
    return platforms, org.pk, token


def _copy(conn, table: str, columns: list[str], lines) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 20_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def seed(db_url: str, platforms: dict[str, int], org_id: int) -> int:
    """SEED_REPORTS reports, 4 per account, one case per account (a fifth closed)."""
    accounts = max(SEED_REPORTS // REPORTS_PER_SEEDED_ACCOUNT, 1)
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    michat = platforms["michat"]
    with psycopg.connect(db_url) as conn:
        _copy(
            conn,
            "accounts_chataccount",
            [
                "id",
                "platform_id",
                "identifier",
                "identifier_kind",
                "display_name",
                "profile_url",
                "phone_numbers",
                "status",
                "first_reported_at",
                "last_reported_at",
                "created_at",
                "updated_at",
            ],
            (
                f"{i}\t{michat}\tseed{i:07d}\thandle\tSeed {i}\t\t{{}}\tunder_review\t"
                f"{start.isoformat()}\t{now.isoformat()}\t{start.isoformat()}\t{now.isoformat()}\n"
                for i in range(1, accounts + 1)
            ),
        )
        _copy(
            conn,
            "moderation_case",
            [
                "id",
                "account_id",
                "status",
                "category",
                "urgent",
                "report_count",
                "reporter_count",
                "source_kinds",
                "priority",
                "opened_at",
                "last_report_at",
                "version",
                "updated_at",
            ],
            (
                f"{i}\t{i}\t{'dismissed' if i % 5 == 0 else 'open'}\tprostitution\tf\t"
                f"{REPORTS_PER_SEEDED_ACCOUNT}\t1\tministry\t70\t{start.isoformat()}\t"
                f"{now.isoformat()}\t1\t{now.isoformat()}\n"
                for i in range(1, accounts + 1)
            ),
        )
        _copy(
            conn,
            "reports_report",
            [
                "source_kind",
                "organisation_id",
                "external_reference",
                "payload_hash",
                "category",
                "description",
                "content_urls",
                "account_identifier_submitted",
                "received_at",
                "urgent",
                "account_id",
                "case_id",
                "reporter_name",
                "reporter_email",
                "reporter_phone",
                "reporter_consent",
                "receipt_code",
            ],
            (
                f"ministry\t{org_id}\tSEED-{n}\t\t{CATEGORIES[n % len(CATEGORIES)]}\t"
                f"Seeded report {n}\t{{}}\tseed{n // REPORTS_PER_SEEDED_ACCOUNT + 1:07d}\t"
                f"{start.isoformat()}\tf\t{n // REPORTS_PER_SEEDED_ACCOUNT + 1}\t"
                f"{n // REPORTS_PER_SEEDED_ACCOUNT + 1}\t\t\t\tf\tSB-{n:010d}\n"
                for n in range(accounts * REPORTS_PER_SEEDED_ACCOUNT)
            ),
        )
        for table in ("accounts_chataccount", "moderation_case"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return accounts


def phone_formats(k: int) -> str:
    digits = f"812{k:08d}"
    style = k % 4
    if style == 0:
        return f"0{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 1:
        return f"+62 {digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return "62" + digits
    return digits


def bodies(seeded_accounts: int) -> list[dict]:
    """REPORTS bodies: 60% on new accounts (each about twice), 40% on seeded ones."""
    rng = random.Random(2026)
    new_accounts = max(int(REPORTS * 0.6 / 2), 1)
    out = []
    for n in range(REPORTS):
        if rng.random() < 0.6:
            k = rng.randrange(new_accounts)
            platform = "michat"
            if k % 3 == 0:
                identifier = phone_formats(k)
            elif k % 3 == 1:
                identifier = f"@Bench_User{k}"
            else:
                identifier = f"https://michat.id/u/bench.{k}"
        else:
            platform = "michat"
            identifier = f"seed{rng.randrange(1, seeded_accounts + 1):07d}"
        out.append(
            {
                "external_reference": f"BENCH-{n}",
                "platform": platform,
                "account": {"identifier": identifier, "display_name": f"Akun {n % 997}"},
                "category": CATEGORIES[n % len(CATEGORIES)],
                "description": "Menawarkan open BO, tarif di profil, minta DP lewat transfer.",
                "content_urls": [f"https://michat.id/post/{n}"],
                "urgent": n % 50 == 0,
            }
        )
    return out


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    return process


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not come up")


def send_all(port: int, token: str, items: list[dict]) -> tuple[float, dict[str, int]]:
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    lock = threading.Lock()
    counts = {"created": 0, "duplicates": 0, "conflicts": 0, "invalid": 0, "http_errors": 0}
    next_batch = iter(range(len(batches)))

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            with lock:
                index = next(next_batch, None)
            if index is None:
                return
            response = session.post(
                f"http://127.0.0.1:{port}/api/v1/reports/batch/",
                json={"reports": batches[index]},
                timeout=300,
            )
            with lock:
                if response.status_code != 200:
                    counts["http_errors"] += 1
                    say(f"batch {index}: HTTP {response.status_code} {response.text[:300]}")
                    continue
                data = response.json()
                for key in ("created", "duplicates", "conflicts", "invalid"):
                    counts[key] += data[key]

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, counts


REPORT_COLUMNS = [
    "source_kind",
    "organisation_id",
    "external_reference",
    "payload_hash",
    "category",
    "description",
    "content_urls",
    "account_identifier_submitted",
    "observed_at",
    "received_at",
    "urgent",
    "account_id",
    "case_id",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_consent",
    "receipt_code",
]


def ceiling(db_url: str) -> tuple[float, int]:
    """The same report rows, already resolved to their accounts and cases, inserted with
    executemany into the same table: what the database alone can take."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports_report "
            "WHERE external_reference LIKE 'BENCH-%%' ORDER BY id"
        ).fetchall()
        conn.commit()
        rows = [
            (*row[:2], "CEIL" + row[2][5:], *row[3:17], f"SC-{n:010d}")
            for n, row in enumerate(rows)
        ]
        placeholders = ", ".join(["%s"] * len(REPORT_COLUMNS))
        sql = f"INSERT INTO reports_report ({', '.join(REPORT_COLUMNS)}) VALUES ({placeholders})"
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
        conn.commit()
        return time.perf_counter() - started, len(rows)


def main() -> int:
    base_url = os.environ["DATABASE_URL"]
    db_url = recreate_database(base_url)
    server = None
    try:
        t0 = time.perf_counter()
        setup_django(db_url)
        platforms, org_id, token = create_sources()
        seeded_accounts = seed(db_url, platforms, org_id)
        seed_seconds = time.perf_counter() - t0
        with psycopg.connect(db_url) as conn:
            before = conn.execute("SELECT count(*) FROM reports_report").fetchone()[0]
        say(f"seeded {before:,} reports on {seeded_accounts:,} accounts in {seed_seconds:.0f} s")

        items = bodies(seeded_accounts)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=db_url, INTAKE_API_RATE="1000000/min")
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        server = start_server(env, port)
        wait_ready(port)
        say(f"gunicorn with {WORKERS} workers on 127.0.0.1:{port}; {CLIENTS} client threads")
        api_seconds, counts = send_all(port, token, items)
        server.terminate()
        server.wait(30)
        server = None

        with psycopg.connect(db_url) as conn:
            landed = conn.execute(
                "SELECT count(*) FROM reports_report WHERE external_reference LIKE 'BENCH-%%'"
            ).fetchone()[0]
            events = conn.execute(
                "SELECT count(*) FROM moderation_auditevent WHERE action = 'report.received'"
            ).fetchone()[0]
            new_cases = conn.execute(
                "SELECT count(*) FROM moderation_case WHERE id > %s", [seeded_accounts]
            ).fetchone()[0]
        ceiling_seconds, ceiling_rows = ceiling(db_url)

        api_rate = landed / api_seconds
        ceiling_rate = ceiling_rows / ceiling_seconds
        ratio = api_rate / ceiling_rate
        from moderation.audit import audit_chain_verify

        chain = audit_chain_verify()
        print()
        print(f"  database before:            {before:>12,} reports")
        print(f"  reports sent (batches of {BATCH}):{len(items):>10,}")
        print(
            f"  created / repeats / errors: {counts['created']:>8,} / {counts['duplicates']:,}"
            f" / {counts['conflicts'] + counts['invalid'] + counts['http_errors']:,}"
        )
        print(f"  reports stored:             {landed:>12,}  ({new_cases:,} new cases)")
        print(f"  audit events written:       {events:>12,}  (chain intact: {chain.intact})")
        print(f"  batch API over HTTP:        {api_seconds:>10.1f} s  {api_rate:>10,.0f} reports/s")
        print(
            f"  raw executemany ceiling:    {ceiling_seconds:>10.1f} s  "
            f"{ceiling_rate:>10,.0f} reports/s"
        )
        print(f"  ratio API / ceiling:        {ratio:>12.1%}")
        print(
            f"  goal: >= 1,000 reports/s and >= 25% of the ceiling: "
            f"{'met' if api_rate >= 1000 and ratio >= 0.25 else 'NOT met'}"
        )
        print()
        ok = landed == REPORTS and events == REPORTS and chain.intact
        print(
            json.dumps(
                {
                    "bench": "intake",
                    "reports_per_s": round(api_rate, 1),
                    "ceiling_per_s": round(ceiling_rate, 1),
                    "ratio": round(ratio, 3),
                }
            )
        )
        return 0 if ok else 1
    finally:
        if server is not None:
            server.kill()
        from django.db import connections

        connections.close_all()
        drop_database(base_url)


if __name__ == "__main__":
    raise SystemExit(main())
