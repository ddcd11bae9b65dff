"""Benchmark: 1,000 approvals delivered to the local operator simulator by one Celery worker.

    make bench BENCH=delivery

Runs twice against a dedicated database (created here, dropped at the end) and the benchmark
Redis: once with a healthy operator, once with the operator answering 503 to 30 % of
requests. One real `celery -A config worker` process (prefork, --concurrency below) does
every delivery; this process approves (as supervisors would, from 4 processes), runs the
sweeper every second as Celery beat would, and hosts the simulator, which notes the moment
it first receives each request id.

Latency is the operator's first receipt minus the request's issued_at (the approval);
deliveries/s is 1,000 over the time from the first approval to the last receipt.
The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = int(os.environ.get("BENCH_DELIVERY_N", "1000"))
CONCURRENCY = 8  # the worker's prefork processes
APPROVERS = 4  # approving processes
BENCH_DB = "saring_bench_delivery"
SLUG = "benchsim"
TIMEOUT_S = 180

# The worker and this process share these (the worker reads them from its environment).
BENCH_ENV = {
    "TAKEDOWN_BACKOFF_BASE_SECONDS": "0.05",
    "TAKEDOWN_BACKOFF_MAX_SECONDS": "0.5",
    "TAKEDOWN_MAX_ATTEMPTS": "20",
    "TAKEDOWN_SWEEP_GRACE_SECONDS": "3",
    "TAKEDOWN_STUCK_AFTER_SECONDS": "30",
    "OPERATOR_TIMEOUT_SECONDS": "5",
    "LOG_LEVEL": "WARNING",
}


def database_urls() -> tuple[str, str]:
    """(admin URL on the server's `postgres` database, URL of the benchmark database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def recreate_database(admin_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    logging.getLogger("saring.operator_sim").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_proposals(run: str, *, moderator, platform) -> list[int]:
    """N takedown proposals as the review queue leaves them, written in bulk."""
    from django.utils import timezone

    from accounts.models import ChatAccount
    from moderation.models import Case, Decision, LegalBasis

    basis, _ = LegalBasis.objects.get_or_create(
        code="uu-ite-27-1", defaults={"title": "UU ITE Pasal 27 ayat (1)"}
    )
    now = timezone.now()
    accounts = ChatAccount.objects.bulk_create(
        ChatAccount(
            platform=platform,
            identifier=f"{run}-account-{i}",
            identifier_kind="handle",
            display_name=f"Bench {i}",
            first_reported_at=now,
            last_reported_at=now,
        )
        for i in range(N)
    )
    cases = Case.objects.bulk_create(
        Case(account=a, status="proposed", category="prostitution") for a in accounts
    )
    decisions = Decision.objects.bulk_create(
        Decision(
            case=c,
            moderator=moderator,
            outcome="propose_takedown",
            category="prostitution",
            legal_basis=basis,
            rationale="Open BO with a price list.",
            case_version=c.version,
        )
        for c in cases
    )
    return [d.pk for d in decisions]


def start_worker(log_path: Path) -> subprocess.Popen:
    env = dict(os.environ) | BENCH_ENV | {"PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the worker
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--concurrency",
            str(CONCURRENCY),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if b"ready." in log_path.read_bytes():
            return worker
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited: see {log_path}")
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not become ready: see {log_path}")


class Sweeper(threading.Thread):
    """What Celery beat does in production, once a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from moderation.takedowns.services import takedown_sweep

        while not self.stopping.wait(1.0):
            takedown_sweep()
        connection.close()


def _approve_chunk(job: tuple[list[int], int]) -> None:
    """One approving process: supervisors clicking Approve, one proposal after another."""
    from django.contrib.auth.models import User
    from django.db import connection

    from config.celery import app
    from moderation.takedowns.services import proposal_approve

    app._pool = None  # this process's own broker connections, not the parent's
    app.amqp._producer_pool = None
    ids, supervisor_id = job
    supervisor = User.objects.get(pk=supervisor_id)
    try:
        for decision_id in ids:
            proposal_approve(decision_id=decision_id, supervisor=supervisor)
    finally:
        connection.close()


def run_once(
    label: str, *, simulator, supervisor, moderator, platform, before_waiting=None
) -> dict:
    from django.db import connections

    from moderation.models import TakedownRequest

    decision_ids = make_proposals(label, moderator=moderator, platform=platform)

    chunks = [decision_ids[i::APPROVERS] for i in range(APPROVERS)]
    # Forked approvers start with no database connection of their own.
    connections.close_all()
    started = time.time()
    with multiprocessing.get_context("fork").Pool(APPROVERS) as pool:
        pool.map(_approve_chunk, [(chunk, supervisor.pk) for chunk in chunks])
    approvals_done = time.time()
    if before_waiting is not None:
        before_waiting()
    request_ids = {
        str(pk)
        for pk in TakedownRequest.objects.filter(
            case__account__identifier__startswith=f"{label}-"
        ).values_list("pk", flat=True)
    }
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        with simulator.lock:
            received = request_ids & set(simulator.received)
        if len(received) == N:
            break
        time.sleep(0.2)
    with simulator.lock:
        seen = {key: r for key, r in simulator.received.items() if key in request_ids}
        strangers = set(simulator.received) - request_ids
        stats = dict(simulator.counts)
    issued = dict(TakedownRequest.objects.filter(pk__in=request_ids).values_list("pk", "issued_at"))
    latencies = sorted(
        seen[str(pk)].first_at - at.timestamp() for pk, at in issued.items() if str(pk) in seen
    )
    last = max((r.first_at for r in seen.values()), default=time.time())
    # Let the acknowledgements land before counting statuses.
    time.sleep(2)
    statuses = dict.fromkeys(["acknowledged", "pending", "sent", "failed", "refused"], 0)
    for status in TakedownRequest.objects.filter(pk__in=request_ids).values_list(
        "status", flat=True
    ):
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "label": label,
        "approvals_per_s": N / (approvals_done - started),
        "drain_per_s": (
            len(seen) / (last - min(r.first_at for r in seen.values())) if len(seen) > 1 else 0.0
        ),
        "delivered": len(seen),
        "deliveries_per_s": len(seen) / (last - started) if seen else 0.0,
        "p50_s": statistics.median(latencies) if latencies else None,
        "p95_s": latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "duplicates": sum(r.deliveries - 1 for r in seen.values()),
        "stranger_ids": len(strangers),
        "operator_503": stats["failed_503"],
        "acknowledged": statuses["acknowledged"],
        "failed": statuses["failed"],
    }


def main() -> int:
    admin_url, bench_url = database_urls()
    recreate_database(admin_url)
    workers: list[subprocess.Popen] = []
    simulators = []
    try:
        setup_django(bench_url)
        from django.contrib.auth.models import Group, User

        from accounts.models import Platform
        from config.roles import Role
        from devtools.simulator import OperatorSimulator, Switches

        signing, callback = "s" * 48, "c" * 48
        simulator = OperatorSimulator(
            {SLUG: (signing, callback)}, switches=Switches(callback_delay=-1)
        ).start()
        simulators.append(simulator)
        platform = Platform.objects.create(
            slug=SLUG,
            name="Bench operator",
            endpoint_url=simulator.endpoint(SLUG),
            signing_secret=signing,
            callback_secret=callback,
            rate_limit_per_second=10_000,
        )
        moderator = User.objects.create_user("bench-moderator")
        moderator.groups.add(Group.objects.get_or_create(name=str(Role.MODERATOR))[0])
        supervisor = User.objects.create_user("bench-supervisor")
        supervisor.groups.add(Group.objects.get_or_create(name=str(Role.SUPERVISOR))[0])

        log_dir = ROOT / ".data"
        log_dir.mkdir(exist_ok=True)

        # First a backlog: 1,000 approvals made while no worker runs (the queue fills), then
        # one worker drains it. This measures the worker alone.
        def start():
            workers.append(start_worker(log_dir / "bench-delivery-worker.log"))

        backlog = run_once(
            "backlog",
            simulator=simulator,
            supervisor=supervisor,
            moderator=moderator,
            platform=platform,
            before_waiting=start,
        )
        sweeper = Sweeper()
        sweeper.start()
        simulator = OperatorSimulator(
            {SLUG: (signing, callback)}, switches=Switches(callback_delay=-1)
        ).start()
        simulators.append(simulator)
        Platform.objects.filter(pk=platform.pk).update(endpoint_url=simulator.endpoint(SLUG))
        clean = run_once(
            "clean",
            simulator=simulator,
            supervisor=supervisor,
            moderator=moderator,
            platform=platform,
        )
        faulty_sim = OperatorSimulator(
            {SLUG: (signing, callback)}, switches=Switches(callback_delay=-1, failure_rate=0.3)
        ).start()
        simulators.append(faulty_sim)
        Platform.objects.filter(pk=platform.pk).update(endpoint_url=faulty_sim.endpoint(SLUG))
        faulty = run_once(
            "faulty",
            simulator=faulty_sim,
            supervisor=supervisor,
            moderator=moderator,
            platform=platform,
        )
        sweeper.stopping.set()
        sweeper.join(5)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        for sim in simulators:
            sim.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        recreate_database(admin_url, drop_only=True)

    print()
    print(
        f"Takedown delivery: {N} approvals, one Celery worker (prefork, --concurrency "
        f"{CONCURRENCY}), {APPROVERS} approving processes, local operator simulator"
    )
    header = (
        f"{'run':<8} {'approvals/s':>12} {'delivered':>10} {'deliveries/s':>13} {'p50 s':>8} "
        f"{'p95 s':>8} {'drain/s':>8} {'dupes':>6} {'503s':>6} {'acked':>6} {'failed':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in (backlog, clean, faulty):
        print(
            f"{r['label']:<8} {r['approvals_per_s']:>12.1f} {r['delivered']:>10} "
            f"{r['deliveries_per_s']:>13.1f} {r['p50_s'] or 0:>8.3f} {r['p95_s'] or 0:>8.3f} "
            f"{r['drain_per_s']:>8.1f} "
            f"{r['duplicates']:>6} {r['operator_503']:>6} {r['acknowledged']:>6} {r['failed']:>7}"
        )
    print(
        f"backlog: approvals made with no worker running, then one worker drained the queue "
        f"at {backlog['drain_per_s']:.1f} deliveries/s (first to last receipt); its latencies "
        "include the wait for the worker and are not the live figures."
    )
    print(
        "goal: >= 100 deliveries/s, p95 < 1 s, 0 duplicates; faulty (30 % 503): all "
        f"{N} delivered, 0 duplicates. Ids the operator saw that we never issued: "
        f"{clean['stranger_ids'] + faulty['stranger_ids']}."
    )
    print(
        json.dumps(
            {
                "bench": "delivery",
                "deliveries_per_s": round(clean["deliveries_per_s"], 1),
                "p95_s": round(clean["p95_s"], 3) if clean["p95_s"] is not None else None,
                "duplicates": clean["duplicates"],
                "faulty_delivered": faulty["delivered"],
                "faulty_duplicates": faulty["duplicates"],
                "worker_drain_per_s": round(backlog["drain_per_s"], 1),
            }
        )
    )
    ok = all(r["delivered"] == N for r in (backlog, clean, faulty))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
