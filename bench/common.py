"""What every benchmark shares: its size, a database of its own, signing in as people do, and
its result line.

- **Size.** `BENCH_SCALE=smoke` runs a benchmark in seconds on the same code path and prints
  the same JSON keys (`make test` does this for every benchmark, so none can rot);
  `BENCH_SCALE=full` (the default, `make bench`) runs the sizes the goals are stated at.
  `scaled(full=…, smoke=…)` picks one.
- **A database of its own**, created next to the one in DATABASE_URL and dropped at the end,
  so a benchmark never touches `make run`'s data or another benchmark's.
- **Signing in as people do**: the password on `/login/`, then for supervisors and
  administrators a real TOTP code from their authenticator's secret on the two-factor page —
  through Django's test client (`signed_in_client`) or over HTTP (`signed_in_session`).
- **The result**: `emit(result)` prints one JSON object as the benchmark's last line; the
  runner (`scripts/dev.py bench`) collects those lines into `bench/results/latest.jsonl`,
  from which `scripts/bench_report.py` writes the README's table.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCALE = os.environ.get("BENCH_SCALE", "full")
if SCALE not in ("full", "smoke"):
    raise SystemExit(f"BENCH_SCALE must be 'full' or 'smoke', not {SCALE!r}")
SMOKE = SCALE == "smoke"
PASSWORD = "bench-password-2026"  # noqa: S105 - a benchmark's own throwaway users


def scaled(*, full: int, smoke: int) -> int:
    """The size for this run: `full` for `make bench`, `smoke` inside `make test`."""
    return smoke if SMOKE else full


def say(bench: str, message: str) -> None:
    print(f"[{bench} bench] {message}", flush=True)


def database_url(name: str, base: str | None = None) -> str:
    """DATABASE_URL with another database name (same server, user and options)."""
    parts = urlsplit(base or os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.contextmanager
def own_database(bench: str) -> Iterator[str]:
    """Create a fresh database for this run, point DATABASE_URL at it, drop it at the end."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"saring_bench_{bench}_{uuid.uuid4().hex[:8]}"
    admin = database_url("postgres", base)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name, base)
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        os.environ["DATABASE_URL"] = base


def django_ready(*, migrate: bool = True) -> None:
    """Set Django up on DATABASE_URL (and migrate it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- People and signing in -----------------------------------------------------------------


def staff(username: str, *roles: str) -> tuple[object, str | None]:
    """A staff user with the bench password and the given roles (their values, e.g.
    "Supervisor"). Those who must pass two-factor sign-in get a confirmed authenticator; the
    second value is its secret (hex), as their phone would hold it, else None."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from config.roles import Role, role_groups
    from signin.policy import two_factor_required

    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff="Administrator" in roles
    )
    user.groups.set(role_groups(*(Role(role) for role in roles)))
    if not two_factor_required(user):
        return user, None
    secret = secrets.token_hex(20)
    TOTPDevice.objects.create(user=user, name="Bench authenticator", key=secret, confirmed=True)
    return user, secret


def totp_now(secret: str, *, step_offset: int = 0) -> str:
    """The code an authenticator app shows now for this secret (hex)."""
    from binascii import unhexlify

    from django_otp.oath import TOTP

    totp = TOTP(unhexlify(secret.encode()), step=30, t0=0, digits=6)
    totp.drift = step_offset
    return f"{totp.token():06d}"


def signed_in_client(username: str, secret: str | None = None):  # -> django.test.Client
    """A Django test client signed in through the real steps: password, then the code."""
    from django.test import Client

    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"sign-in of {username} failed: HTTP {response.status_code}")
    if secret is not None:
        for offset in (0, 1):  # a code used within the same 30 s is refused once used
            verified = client.post(
                "/account/two-factor/", {"token": totp_now(secret, step_offset=offset)}
            )
            if verified.status_code == 302:
                break
        else:
            raise SystemExit(f"two-factor sign-in of {username} failed")
    return client


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in_session(base_url: str, username: str, secret: str | None = None):
    """A `requests.Session` signed in over HTTP, as a browser would: the login page's CSRF
    token, the password, then the two-factor code."""
    import requests

    session = requests.Session()
    base = base_url.rstrip("/")

    def post_form(path: str, data: dict) -> requests.Response:
        page = session.get(base + path, timeout=30)
        token = _CSRF_INPUT.search(page.text)
        if token is None:
            raise SystemExit(f"no form at {path} for {username}: HTTP {page.status_code}")
        return session.post(
            base + path,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": base + path},
            allow_redirects=False,
            timeout=30,
        )

    response = post_form("/login/", {"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"sign-in of {username} failed: HTTP {response.status_code}")
    if secret is not None:
        for offset in (0, 1):
            verified = post_form(
                "/account/two-factor/", {"token": totp_now(secret, step_offset=offset)}
            )
            if verified.status_code == 302:
                break
        else:
            raise SystemExit(f"two-factor sign-in of {username} failed")
    return session


# --- The result ------------------------------------------------------------------------------


def goal(met: bool) -> str:
    return "met" if met else "NOT met"


def emit(result: dict) -> None:
    """Print the benchmark's figures as one JSON object: always the last line it prints."""
    print(json.dumps({**result, "scale": SCALE}), flush=True)


# --- Where a request's SQL time goes (BENCH_PROFILE) ------------------------------------------


@contextlib.contextmanager
def recorded_queries() -> Iterator[list[tuple[str, object, float]]]:
    """Every SQL statement run inside the block: (sql, params, seconds). (Django's
    CaptureQueriesContext loses a request's first queries: the test client clears the query
    log when a request starts.)"""
    import time

    from django.db import connection

    log: list[tuple[str, object, float]] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            log.append((sql, params, time.perf_counter() - started))

    with connection.execute_wrapper(record):
        yield log


def server_ms(plan: list[str]) -> float:
    """Planning plus execution time, from the last lines of EXPLAIN ANALYZE."""
    return sum(
        float(line.split(":")[1].split()[0])
        for line in plan
        if line.startswith(("Planning Time:", "Execution Time:"))
    )


def print_server_times(queries) -> None:
    """Each SELECT of `queries` re-run under EXPLAIN ANALYZE: its execution time on the
    server (which a busy machine's scheduling does not blur), slowest first, then the
    slowest one's plan."""
    from django.db import connection, transaction

    plans = []
    for sql, params, _seconds in queries:
        if not sql.lstrip().startswith("SELECT"):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        plans.append((server_ms(plan), " ".join(sql.split()), plan))
    plans.sort(key=lambda item: -item[0])
    print("server time of each SELECT (EXPLAIN ANALYZE, planning + execution):")
    for ms, sql, _plan in plans:
        print(f"  {ms:8.3f} ms  {sql[:150]}")
    if plans:
        print("the slowest:\n" + "\n".join(plans[0][2]), flush=True)
