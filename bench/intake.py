# ruff: noqa: S603, S608 - our own programs and fixed table names, no outside input
"""Intake: reports in batches of 500 over real HTTP, against the fastest one-connection ceiling.

    make bench BENCH=intake                     # 100,000 reports into 1,000,000
    BENCH_SCALE=smoke make bench BENCH=intake   # 1,000 into 2,000, the same steps
    BENCH_PROFILE=1 make bench BENCH=intake     # and where the workers' time goes (py-spy)

What is measured, in one database of its own (dropped at the end):

1. **Ours.** The database is seeded with COPY: 1,000,000 reports on 250,000 accounts and cases.
   gunicorn (2 sync workers, one a core; BENCH_THREADS=4 runs the Procfile's gthread workers)
   serves the site on a loopback port, and 3 client threads POST 100,000 reports in batches
   of 500 to /api/v1/reports/batch/ with a source organisation's token: 60 % on new accounts
   (phone numbers in several formats, handles, profile links; each account about twice),
   40 % on seeded ones. The clock runs from the first request to the last answer; the
   bodies are encoded beforehand, as a client on another machine would have them.
   `reports_per_s` = reports stored / that time. Every report must land once with its
   audit event. The audit sequencer runs beside the workers as in production (its own
   process); afterwards every event must be sealed and the log must verify, and the
   **sealing lag** (an event's writing to the sealing that made it a leaf) is reported:
   p50, p95 (goal < 2 s), max.
2. **The ceiling.** The very rows the API stored (resolved to their accounts and cases, with
   their references and receipt codes) are read back and deleted, so the table holds what it
   held when the API run began, with the same indexes. Then each method writes all of them
   over ONE connection in one transaction, committed inside the clock; the rows are deleted
   again and the table vacuumed, with a checkpoint, before the next method. The payloads are
   prepared before the clock starts (COPY's text straight from PostgreSQL, the JSON
   documents, the parameter tuples), so the ceiling is what the database itself takes:
   - `copy`: one COPY FROM STDIN;
   - `recordset_500`, `recordset_5000`: INSERT … SELECT … FROM jsonb_to_recordset(…), the
     statement config.recordset builds for intake, 500 or 5,000 rows a statement;
   - `executemany`: one INSERT a row (psycopg pipelines them), for the table.
   Each method runs twice, the second round in reverse order, and keeps its better time.
   The fastest is `ceiling_per_s` (`ceiling_method` names it); `ratio` = ours / ceiling.
   Goals: >= 3,000 reports/s over HTTP on the 2-core machine and >= 25 % of the ceiling.

Where the time went, in every run: the CPU seconds the gunicorn workers, their PostgreSQL
backends and the client used against what the machine could give (2 cores × the run), and
what PostgreSQL's backends were doing, sampled from pg_stat_activity every 50 ms — above all
whether any advisory lock was held or waited for (none is, since the audit log became a
Merkle tree; the chain's lock was the ceiling before), and how much a
worker waited for rows (accounts, cases) another worker's transaction held (the tools are
in bench/intake_watch.py). With
BENCH_PROFILE=1 the workers also run under `py-spy record` (a dev dependency)
and the stages of a batch are printed as shares of the workers' request time; the raw
profile is left in bench/results/intake-profile.txt. py-spy costs CPU: a profiled run's
figures are lower than a plain run's.

Sizes can be set for a quick look: BENCH_SEED_REPORTS, BENCH_REPORTS, BENCH_WORKERS,
BENCH_CLIENTS, BENCH_THREADS. Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

from bench.common import ROOT, django_ready, emit, goal, own_database, scaled
from bench.common import say as common_say
from bench.intake_watch import (
    WATCHER,
    CpuLedger,
    WaitSampler,
    children,
    print_where_time_went,
    profile_summary,
)


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


SEED_REPORTS = _setting("BENCH_SEED_REPORTS", scaled(full=1_000_000, smoke=2_000))
REPORTS = _setting("BENCH_REPORTS", scaled(full=100_000, smoke=1_000))
WORKERS = _setting("BENCH_WORKERS", 2)
CLIENTS = _setting("BENCH_CLIENTS", 3)
THREADS = _setting("BENCH_THREADS", 1)  # a worker's threads; the Procfile runs 4
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
BATCH = 500
GOAL_PER_S = 3_000
GOAL_RATIO = 0.25
REPORTS_PER_SEEDED_ACCOUNT = 4
CATEGORIES = ["prostitution"] * 6 + ["gambling", "fraud", "pornography", "drugs"]
PROFILE_OUT = ROOT / "bench" / "results" / "intake-profile.txt"


def say(message: str) -> None:
    common_say("intake", message)


# --- The database: sources and seeded reports ----------------------------------------------


def create_sources() -> tuple[int, str]:
    """The platforms and the ministry's organisation with an API token: (its id, token)."""
    from moderation.audit import Actor
    from moderation.takedowns import platform_configure
    from reports.models import SourceOrganisation
    from reports.services.tokens import api_token_issue

    for slug, pattern in [
        ("michat", r"michat\.(?:com|id)/(?:u/|profile/)?@?([A-Za-z0-9_.]+)"),
        ("telegram", r"t\.me/@?([A-Za-z0-9_]{4,})"),
        ("whatsapp", r"wa\.me/(\+?\d{8,15})"),
    ]:
        platform, _ = platform_configure(
            slug=slug,
            actor=Actor.system("bench"),
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="bench-signing-secret-0123456789abcdef",  # noqa: S106
            callback_secret="bench-callback-secret-0123456789abcdef",  # noqa: S106
        )
        platform.profile_url_pattern = pattern
        platform.save(update_fields=["profile_url_pattern"])
    org, _ = SourceOrganisation.objects.get_or_create(
        slug="kominfo", defaults={"name": "Komdigi", "kind": "ministry"}
    )
    _, token = api_token_issue(organisation=org, label="bench")
    return org.pk, token


def _copy_lines(conn: psycopg.Connection, table: str, columns: str, lines) -> None:
    """COPY text lines into `table`; `columns` are separated by spaces."""
    sql = f"COPY {table} ({', '.join(columns.split())}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 20_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def seed(url: str, org_id: int) -> int:
    """SEED_REPORTS reports, 4 per account, one case per account (a fifth of them closed);
    returns the number of accounts."""
    accounts = max(SEED_REPORTS // REPORTS_PER_SEEDED_ACCOUNT, 1)
    now = datetime.now(UTC)
    start = (now - timedelta(days=60)).isoformat()
    now = now.isoformat()
    with psycopg.connect(url) as conn:
        michat = conn.execute("SELECT id FROM accounts_platform WHERE slug = 'michat'").fetchone()
        _copy_lines(
            conn,
            "accounts_chataccount",
            "id platform_id identifier identifier_kind display_name profile_url phone_numbers"
            " status first_reported_at last_reported_at created_at updated_at",
            (
                f"{i}\t{michat[0]}\tseed{i:07d}\thandle\tSeed {i}\t\t{{}}\tunder_review\t"
                f"{start}\t{now}\t{start}\t{now}\n"
                for i in range(1, accounts + 1)
            ),
        )
        _copy_lines(
            conn,
            "moderation_case",
            "id account_id status category urgent report_count reporter_count source_kinds"
            " priority opened_at last_report_at version updated_at",
            (
                f"{i}\t{i}\t{'dismissed' if i % 5 == 0 else 'open'}\tprostitution\tf\t"
                f"{REPORTS_PER_SEEDED_ACCOUNT}\t1\tministry\t70\t{start}\t{now}\t1\t{now}\n"
                for i in range(1, accounts + 1)
            ),
        )
        _copy_lines(
            conn,
            "reports_report",
            "source_kind organisation_id external_reference payload_hash category description"
            " content_urls account_identifier_submitted received_at urgent account_id case_id"
            " reporter_name reporter_email reporter_phone reporter_consent receipt_code",
            (
                f"ministry\t{org_id}\tSEED-{n}\t\t{CATEGORIES[n % len(CATEGORIES)]}\t"
                f"Seeded report {n}\t{{}}\tseed{n // REPORTS_PER_SEEDED_ACCOUNT + 1:07d}\t"
                f"{start}\tf\t{n // REPORTS_PER_SEEDED_ACCOUNT + 1}\t"
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
        # The seed's WAL is flushed now, not by a checkpoint in the middle of the API run.
        conn.execute("CHECKPOINT")
    return accounts


# --- What the clients send -----------------------------------------------------------------


def _phone(k: int) -> str:
    digits = f"812{k:08d}"
    style = k % 4
    if style == 0:
        return f"0{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 1:
        return f"+62 {digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return "62" + digits
    return digits


def batches(seeded_accounts: int) -> list[bytes]:
    """REPORTS reports in JSON bodies of BATCH: 60 % on new accounts (each about twice),
    40 % on seeded ones."""
    rng = random.Random(2026)
    new_accounts = max(int(REPORTS * 0.6 / 2), 1)
    reports = []
    for n in range(REPORTS):
        if rng.random() < 0.6:
            k = rng.randrange(new_accounts)
            if k % 3 == 0:
                identifier = _phone(k)
            elif k % 3 == 1:
                identifier = f"@Bench_User{k}"
            else:
                identifier = f"https://michat.id/u/bench.{k}"
        else:
            identifier = f"seed{rng.randrange(1, seeded_accounts + 1):07d}"
        reports.append(
            {
                "external_reference": f"BENCH-{n}",
                "platform": "michat",
                "account": {"identifier": identifier, "display_name": f"Akun {n % 997}"},
                "category": CATEGORIES[n % len(CATEGORIES)],
                "description": "Menawarkan open BO, tarif di profil, minta DP lewat transfer.",
                "content_urls": [f"https://michat.id/post/{n}"],
                "urgent": n % 50 == 0,
            }
        )
    return [
        json.dumps({"reports": reports[i : i + BATCH]}).encode()
        for i in range(0, len(reports), BATCH)
    ]


# --- The server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen  # gunicorn, or py-spy running gunicorn
    pidfile: Path
    port: int

    @property
    def master(self) -> int:
        return int(self.pidfile.read_text())

    def workers(self) -> list[int]:
        return children(self.master)

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            os.kill(self.master, signal.SIGTERM)
        try:
            self.process.wait(120)  # py-spy writes its profile once gunicorn is gone
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(url: str, workdir: Path) -> Server:
    port = _free_port()
    pidfile = workdir / "gunicorn.pid"
    env = dict(os.environ, DATABASE_URL=url, INTAKE_API_RATE="1000000/min")
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={WORKERS}",
        f"--threads={THREADS}",
        "--worker-class=" + ("gthread" if THREADS > 1 else "sync"),
        "--timeout=300",
        "--log-level=warning",
        f"--pid={pidfile}",
    ]
    if PROFILE:
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which(
            "py-spy"
        )
        if py_spy is None:
            raise SystemExit("BENCH_PROFILE=1 needs py-spy: .venv/bin/pip install py-spy")
        PROFILE_OUT.parent.mkdir(parents=True, exist_ok=True)
        # --idle: a worker waiting for PostgreSQL (or its lock) is what we look for.
        command = [
            py_spy,
            "record",
            "--subprocesses",
            "--idle",
            "--nonblocking",
            "--nolineno",
            "--rate=100",
            "--format=raw",
            f"--output={PROFILE_OUT}",
            "--",
            *command,
        ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL if PROFILE else None
    )
    server = Server(process, pidfile, port)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            if health.status_code == 200 and len(server.workers()) >= WORKERS:
                return server
        if process.poll() is not None:
            break
        time.sleep(0.5)
    server.stop()
    raise SystemExit("gunicorn did not come up")


@dataclass
class Sent:
    seconds: float
    counts: dict[str, int]


def send_all(port: int, token: str, bodies: list[bytes]) -> Sent:
    """POST every batch from CLIENTS threads; the clock runs from first request to last answer."""
    lock = threading.Lock()
    counts = {"created": 0, "duplicates": 0, "conflicts": 0, "invalid": 0, "http_errors": 0}
    queue = iter(enumerate(bodies))

    def client() -> None:
        session = requests.Session()
        session.headers.update(
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        )
        while True:
            with lock:
                index, body = next(queue, (None, b""))
            if index is None:
                return
            response = session.post(
                f"http://127.0.0.1:{port}/api/v1/reports/batch/", data=body, timeout=300
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
    return Sent(time.perf_counter() - started, counts)


# --- The ceiling --------------------------------------------------------------------------

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
    "reporter_key",
    "receipt_code",
]
OURS = "organisation_id = %s AND external_reference LIKE 'BENCH-%%'"


def _copy_in(conn: psycopg.Connection, payload: dict) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY reports_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy,
    ):
        for block in payload["copy"]:
            copy.write(block)


def _recordset_in(size: int):
    def write(conn: psycopg.Connection, payload: dict) -> None:
        with conn.cursor() as cur:
            for document in payload[f"recordset_{size}"]:
                cur.execute(payload["recordset_sql"], [document])

    return write


def _executemany_in(conn: psycopg.Connection, payload: dict) -> None:
    placeholders = ", ".join(["%s"] * len(REPORT_COLUMNS))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO reports_report ({', '.join(REPORT_COLUMNS)}) VALUES ({placeholders})",
            payload["tuples"],
        )


METHODS = {
    "copy": ("COPY FROM STDIN", _copy_in),
    "recordset_500": (
        "INSERT … SELECT FROM jsonb_to_recordset, 500 a statement",
        _recordset_in(500),
    ),
    "recordset_5000": (
        "INSERT … SELECT FROM jsonb_to_recordset, 5,000 a statement",
        _recordset_in(5000),
    ),
    "executemany": ("executemany, one INSERT a row", _executemany_in),
}


def _payload(conn: psycopg.Connection, org_id: int) -> dict:
    """The API's rows, in every shape a method takes, before any clock starts."""
    from reports.services.intake import _REPORTS

    columns = ", ".join(REPORT_COLUMNS)
    select = f"SELECT {columns} FROM reports_report WHERE {OURS} ORDER BY id"
    tuples = conn.execute(select, [org_id]).fetchall()
    with conn.cursor() as cur:
        # COPY's own text form, from PostgreSQL: nothing left to format while timed.
        statement = psycopg.ClientCursor(conn).mogrify(select, [org_id])
        with cur.copy(f"COPY ({statement}) TO STDOUT") as copy:
            blocks = [bytes(block) for block in copy]
    dicts = [dict(zip(REPORT_COLUMNS, row, strict=True)) for row in tuples]
    payload = {
        "tuples": tuples,
        "copy": blocks,
        # intake's own statement (config.recordset), without its RETURNING.
        "recordset_sql": _REPORTS.insert_sql(
            "reports_report",
            values={"content_urls": "ARRAY(SELECT jsonb_array_elements_text(v.content_urls))"},
        ),
    }
    for size in (500, 5000):
        payload[f"recordset_{size}"] = [
            _REPORTS.rows(dicts[i : i + size]) for i in range(0, len(dicts), size)
        ]
    return payload


def _clear(conn: psycopg.Connection, org_id: int) -> None:
    """Delete the batch's rows and vacuum, so the next writer finds the table as the API did."""
    conn.execute(f"DELETE FROM reports_report WHERE {OURS}", [org_id])
    conn.commit()
    conn.autocommit = True
    try:
        conn.execute("VACUUM ANALYZE reports_report")
        conn.execute("CHECKPOINT")
    finally:
        conn.autocommit = False


def ceiling(url: str, org_id: int) -> dict[str, float]:
    """Rows a second for each method, writing the API's rows over one connection: the best of
    two rounds, the second in reverse order, so that no method gains from going first."""
    rates: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        payload = _payload(conn, org_id)
        rows = len(payload["tuples"])
        _clear(conn, org_id)
        for key in [*METHODS, *reversed(METHODS)]:
            started = time.perf_counter()
            METHODS[key][1](conn, payload)
            conn.commit()
            seconds = time.perf_counter() - started
            stored = conn.execute(
                f"SELECT count(*) FROM reports_report WHERE {OURS}", [org_id]
            ).fetchone()[0]
            if stored != rows:
                raise SystemExit(f"ceiling {key} stored {stored:,} rows of {rows:,}")
            rates[key] = max(rates.get(key, 0.0), rows / seconds)
            say(f"ceiling {key}: {rows:,} rows in {seconds:.2f} s")
            _clear(conn, org_id)
    return rates


# --- The audit log's sequencer, as in production ------------------------------------------

GOAL_SEAL_LAG_S = 2.0  # the transparency-log issue: sealing lag p95 under this bench


def start_sequencer(url: str, workdir: Path) -> subprocess.Popen:
    """`manage.py audit_sequencer` (its own process, as the Procfile runs it) with a signing
    key and checkpoint files of this run."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        AUDIT_SIGNING_KEY_FILE=str(workdir / "audit.key"),
        AUDIT_LEAF_FILE=str(workdir / "leaves.bin"),
        AUDIT_CHECKPOINT_FILE=str(workdir / "checkpoints.txt"),
        AUDIT_WITNESS_URL="",
    )
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "audit_key", "--create"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "audit_sequencer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "sequencer.log", "w"),  # noqa: SIM115 - closed with the process
    )


def wait_until_sealed(monitor, sequencer: subprocess.Popen, seconds: float = 300) -> int:
    """Wait for the sequencer to seal every event; stop it; return the events left unsealed."""
    deadline = time.monotonic() + seconds
    left = -1
    while time.monotonic() < deadline and sequencer.poll() is None:
        left = monitor.execute(
            "SELECT count(*) FROM moderation_auditevent e"
            " WHERE NOT EXISTS (SELECT 1 FROM moderation_auditleaf l WHERE l.event_id = e.id)"
        ).fetchone()[0]
        if left == 0:
            break
        time.sleep(0.5)
    sequencer.terminate()
    sequencer.wait(30)
    return left


def sealing_lag(monitor) -> dict[str, float]:
    """Seconds from an event's writing to the sealing that made it a leaf: p50, p95, max."""
    row = monitor.execute(
        "WITH heads AS (SELECT size, sealed_at, lag(size, 1, 0::bigint) OVER (ORDER BY size)"
        " AS first FROM moderation_audittreehead)"
        " SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY lag), max(lag), count(*)"
        " FROM (SELECT extract(epoch FROM h.sealed_at - e.created_at)::float AS lag"
        " FROM moderation_auditleaf l JOIN moderation_auditevent e ON e.id = l.event_id"
        " JOIN heads h ON l.index >= h.first AND l.index < h.size) lags"
    ).fetchone()
    return {"p50_s": row[0] or 0.0, "p95_s": row[1] or 0.0, "max_s": row[2] or 0.0, "n": row[3]}


# --- The run ------------------------------------------------------------------------------


def main() -> int:
    # Stopped with SIGTERM, still drop the database (and stop the servers) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with own_database("intake") as url, tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        django_ready()
        org_id, token = create_sources()
        seeded_accounts = seed(url, org_id)
        from django.db import connections

        connections.close_all()  # our backends are the workers' alone while measured
        with psycopg.connect(url, autocommit=True, application_name=WATCHER) as monitor:
            before = monitor.execute("SELECT count(*) FROM reports_report").fetchone()[0]
            say(
                f"seeded {before:,} reports on {seeded_accounts:,} accounts in "
                f"{time.perf_counter() - started:.0f} s"
            )
            bodies = batches(seeded_accounts)
            server = start_server(url, Path(workdir))
            try:
                say(
                    f"gunicorn with {WORKERS} workers of {THREADS} thread(s) on port "
                    f"{server.port}, {CLIENTS} clients" + (", under py-spy" if PROFILE else "")
                )
                ledger = CpuLedger(
                    server.workers, monitor, profiler=server.process.pid if PROFILE else None
                )
                sampler = WaitSampler(url)
                sequencer = start_sequencer(url, Path(workdir))
                ledger.start()
                sampler.start()
                sent = send_all(server.port, token, bodies)
                sampler.stop()
                ledger.stop()
            finally:
                server.stop()
            landed, events, new_cases = monitor.execute(
                f"SELECT (SELECT count(*) FROM reports_report WHERE {OURS}),"
                " (SELECT count(*) FROM moderation_auditevent WHERE action = 'report.received'),"
                " (SELECT count(*) FROM moderation_case WHERE id > %s)",
                [org_id, seeded_accounts],
            ).fetchone()
            unsealed = wait_until_sealed(monitor, sequencer)
            lag = sealing_lag(monitor)
        from moderation.audit import log_verify

        chain = log_verify()
        connections.close_all()
        rates = ceiling(url, org_id)

    ours = landed / sent.seconds
    method = max(rates, key=rates.__getitem__)
    ratio = ours / rates[method] if rates[method] else 0.0
    met = ours >= GOAL_PER_S and ratio >= GOAL_RATIO
    correct = (
        landed == events == REPORTS
        and chain.intact
        and unsealed == 0
        and sent.counts["http_errors"] == 0
    )
    errors = sent.counts["conflicts"] + sent.counts["invalid"] + sent.counts["http_errors"]
    used = ledger.used
    polls = max(sampler.polls, 1)
    print()
    print(f"  database before:                {before:>12,} reports")
    print(f"  reports sent (batches of {BATCH}):  {REPORTS:>12,}")
    print(
        f"  created / repeats / errors:     {sent.counts['created']:>12,} / "
        f"{sent.counts['duplicates']:,} / {errors:,}"
    )
    print(f"  reports stored:                 {landed:>12,}  ({new_cases:,} new cases)")
    print(
        f"  audit events written:           {events:>12,}  (every one sealed: {unsealed == 0};"
        f" log intact: {chain.intact})"
    )
    print(
        f"  sealing lag (written -> leaf):  p50 {lag['p50_s']:.2f} s, p95 {lag['p95_s']:.2f} s,"
        f" max {lag['max_s']:.2f} s (goal p95 < {GOAL_SEAL_LAG_S:.0f} s): "
        f"{goal(lag['p95_s'] < GOAL_SEAL_LAG_S)}"
    )
    print(f"  ours, over HTTP:                {sent.seconds:>10.2f} s {ours:>10,.0f} reports/s")
    for key, (name, _) in METHODS.items():
        mark = "  <- the ceiling" if key == method else ""
        print(f"  {name:<58}{rates[key]:>10,.0f} rows/s{mark}")
    print(f"  ratio ours / ceiling:           {ratio:>12.1%}")
    print(
        f"  goal: >= {GOAL_PER_S:,} reports/s over HTTP and >= {GOAL_RATIO:.0%} of the "
        f"ceiling: {goal(met)}"
    )
    print()
    print_where_time_went(ledger, sampler, seconds=sent.seconds, reports=landed)
    if PROFILE:
        print("\n".join(profile_summary(PROFILE_OUT.relative_to(ROOT))))
    print()
    if not correct:
        say("NOT every report landed once with its audit event, sealed, in an intact log")
    emit(
        {
            "bench": "intake",
            "reports": REPORTS,
            "seeded_reports": before,
            "server": f"{WORKERS} workers x {THREADS} thread(s), {CLIENTS} clients",
            "reports_per_s": round(ours, 1),
            "ceiling_per_s": round(rates[method], 1),
            "ceiling_method": method,
            "ceilings_per_s": {key: round(rate, 1) for key, rate in rates.items()},
            "ratio": round(ratio, 3),
            "goal_met": met,
            "correct": correct,
            "machine_busy": round(used["machine"] / used["capacity"], 3),
            "cpu_ms_per_report": {
                key: round(used[key] / max(landed, 1) * 1000, 3)
                for key in ("workers", "postgres", "client")
            },
            "seal_lag_p50_s": round(lag["p50_s"], 3),
            "seal_lag_p95_s": round(lag["p95_s"], 3),
            "seal_lag_max_s": round(lag["max_s"], 3),
            "seal_lag_goal_met": lag["p95_s"] < GOAL_SEAL_LAG_S,
            "advisory_lock_held": round(sampler.lock_held / polls, 3),
            "advisory_lock_waited": round(sampler.lock_waited / polls, 3),
            "row_lock_waited": round(sampler.row_waited / polls, 3),
            "profiled": PROFILE,
        }
    )
    return 0 if correct else 1


if __name__ == "__main__":
    raise SystemExit(main())
