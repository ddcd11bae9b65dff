"""Benchmark: takedown delivery, from supervisors' approvals to the operator, clean and under
every fault the contract names.

    make bench BENCH=delivery                     # 1,000 approvals per run
    BENCH_SCALE=smoke make bench BENCH=delivery   # 60 per run, shorter timers (printed)
    BENCH_PROFILE_DIR=/tmp/prof make bench …      # also py-spy the clean run's processes
    BENCH_DELIVERY_N=300 …                        # another size (while developing)

What runs: APPROVERS processes approve proposals (one supervisor each, through the approval
service the Approvals page calls); one real `celery -A config worker` (prefork, CONCURRENCY
processes) delivers, and `celery -A config beat` runs the sweeper; the operator simulator
answers over HTTP on loopback, in this process. All of it on a PostgreSQL database and a Redis
of the benchmark's own. Settings are production's (config/settings.py); any scaled one is
printed with the reason.

Three runs of N approvals:
- backlog: approved with no worker running; then the worker drains the queue. Its rate, first
  to last receipt at the operator, is the worker's own.
- clean: approved as fast as the approving processes go, and delivered while they are made.
  Live deliveries/s run from the first approval's commit to the operator's last first receipt;
  latency runs from each approval's commit (when its delivery task is published) to the
  operator's first receipt of it. Goals: >= 100/s and p95 < 1 s. PostgreSQL is sampled
  meanwhile for waits on advisory locks (the write path takes none since the audit log
  became a Merkle tree; before, every write took the chain's).
- faulty: approvals spread over FAULTY_APPROVAL_S while the operator fails in every way the
  contract names — 503s, a window of 429s with Retry-After, hung and reset connections before
  it acts, and acting then answering 503, resetting or hanging — while the worker is SIGKILLed
  and started again and Redis (the broker, no persistence) is restarted. Then it waits until
  every request is acknowledged or dead-lettered. Goal: every request delivered.

Duplicates are counted on the operator's side, over every request it received whatever it
answered (2xx, 409, 503, 429, reset, hang): a duplicate action is a second action on one
Idempotency-Key, or a second request id for one case (a second order for one decision).
Goal: 0 in every run.

Whatever else breaks is counted, not hidden: a Celery process that exits on its own is
started again (as `restart: unless-stopped` in docker-compose.yml does), an approval that fails
with a database error is made again (as a supervisor shown the error would), and the
deadlocks PostgreSQL broke come from pg_stat_database. The exit status is 1 only when a
request was lost or acted on twice. The last line printed is one JSON object.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import SMOKE, django_ready, emit, goal, own_database, say, scaled, staff
from bench.delivery_figures import LockSampler, operator_view, percentile, second_orders
from bench.delivery_processes import (
    BenchRedis,
    Profile,
    Restarter,
    celery_beat,
    celery_worker,
    children,
)

BENCH = "delivery"
N = int(os.environ.get("BENCH_DELIVERY_N") or scaled(full=1000, smoke=60))
APPROVERS = 4  # approving processes, one supervisor each
CONCURRENCY = 8  # the worker's prefork processes
SLUG = "benchsim"
PROFILE_DIR = Path(os.environ["BENCH_PROFILE_DIR"]) if os.environ.get("BENCH_PROFILE_DIR") else None

PRODUCTION = {
    "TAKEDOWN_BACKOFF_BASE_SECONDS": 30,
    "TAKEDOWN_BACKOFF_MAX_SECONDS": 3600,
    "TAKEDOWN_STUCK_AFTER_SECONDS": 300,
    "TAKEDOWN_SWEEP_GRACE_SECONDS": 30,
    "TAKEDOWN_SWEEP_INTERVAL_SECONDS": 15,
    "OPERATOR_TIMEOUT_SECONDS": 10,
    "TAKEDOWN_MAX_ATTEMPTS": 8,
}
if SMOKE:
    SCALED_BECAUSE = "a smoke run has about a minute for what production spreads over hours"
    SCALED = {
        "TAKEDOWN_BACKOFF_BASE_SECONDS": 1,
        "TAKEDOWN_BACKOFF_MAX_SECONDS": 8,
        "TAKEDOWN_STUCK_AFTER_SECONDS": 8,
        "TAKEDOWN_SWEEP_GRACE_SECONDS": 2,
        "TAKEDOWN_SWEEP_INTERVAL_SECONDS": 1,
        "OPERATOR_TIMEOUT_SECONDS": 2,
    }
else:
    SCALED_BECAUSE = (
        "a request failing 5 times in a row would wait 8-16 min for its 6th attempt and up to "
        "63 min in all; capped, it waits at most 32 min, and only such requests are affected"
    )
    SCALED = {"TAKEDOWN_BACKOFF_MAX_SECONDS": 480}
SETTINGS = PRODUCTION | SCALED
TIMEOUT_S = SETTINGS["OPERATOR_TIMEOUT_SECONDS"]

# The faulty operator: shares of requests drawn one after another (simulator Switches), so
# about 23 % of requests fail; every kind is also forced once at the start (next_faults).
FAULT_SHARES = {
    "hang_rate": 0.02,
    "failure_rate": 0.10,
    "reset_rate": 0.04,
    "acted_503_rate": 0.03,
    "acted_reset_rate": 0.02,
    "acted_hang_rate": 0.02,
}
HANG_S = 2 * TIMEOUT_S  # longer than the operator timeout
FAULTY_APPROVAL_S = scaled(full=60, smoke=10)  # the faulty run's approvals are spread over this
THROTTLE_S = scaled(full=5, smoke=1)  # one window of 429s, as an operator's rate limit gives
RETRY_AFTER_S = scaled(full=2, smoke=1)
REDIS_DOWN_S = scaled(full=5, smoke=2)
SETTLE_S = scaled(full=40 * 60, smoke=40)  # after the last approval, at most
RECEIPT_WAIT_S = scaled(full=300, smoke=60)  # backlog and clean runs, at most


# --- Approving -------------------------------------------------------------------------------


def make_proposals(label: str, *, moderator, platform) -> list[int]:
    """N takedown proposals as the review queue leaves them, written in bulk."""
    from django.utils import timezone

    from accounts.models import ChatAccount
    from moderation.models import Case, Decision, LegalBasis

    basis, _ = LegalBasis.objects.update_or_create(
        code="uu-ite-27-1",
        defaults={
            "title": "UU ITE Pasal 27 ayat (1)",
            "categories": ["prostitution", "pornography"],
        },
    )
    now = timezone.now()
    accounts = ChatAccount.objects.bulk_create(
        ChatAccount(
            platform=platform,
            identifier=f"{label}-account-{i}",
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


_published: dict[str, float] = {}  # request id -> when its delivery task was published


class _Unqueued(logging.Filter):
    """Counts approvals whose delivery could not be queued (Redis down), instead of printing
    each one's traceback: the table reports them."""

    count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("could not queue delivery"):
            _Unqueued.count += 1
            return False
        return True


def _approver_ready() -> None:
    """Each approving process, once forked: its own broker connections, and a note of the
    moment each approval's on-commit hook publishes its delivery task."""
    from celery.signals import before_task_publish

    from config.celery import app

    app._pool = None
    app.amqp._producer_pool = None

    def published(body=None, **kwargs) -> None:
        _published.setdefault(str(body[0][0]), time.time())  # body: (args, kwargs, embed)

    before_task_publish.connect(published, weak=False)
    logging.getLogger("saring.takedowns").addFilter(_Unqueued())


def _approve(job: tuple[list[int], int, float, float]) -> tuple[list[tuple[str, float]], int, int]:
    """One supervisor approving proposals one after another, from `start_at`, one every
    `interval` seconds (0: as fast as they go). Returns (request id, committed at) pairs, how
    many could not queue their delivery, and how many failed with a database error and were
    approved again (as a supervisor shown an error page would)."""
    from django.contrib.auth.models import User
    from django.db import OperationalError, connection

    from moderation.takedowns.services import proposal_approve

    decision_ids, supervisor_id, start_at, interval = job
    supervisor = User.objects.get(pk=supervisor_id)
    committed, unqueued_before, errors = [], _Unqueued.count, 0
    time.sleep(max(0.0, start_at - time.time()))
    try:
        for i, decision_id in enumerate(decision_ids):
            if interval:
                time.sleep(max(0.0, start_at + i * interval - time.time()))
            for again in range(3):
                try:
                    request = proposal_approve(decision_id=decision_id, supervisor=supervisor)
                    break
                except OperationalError:  # e.g. a deadlock: the whole approval rolled back
                    errors += 1
                    if again == 2:
                        raise
            returned = time.time()
            key = str(request.pk)
            # Redis down: nothing was published; the commit was just before the return.
            committed.append((key, _published.pop(key, returned)))
    finally:
        connection.close()
    return committed, _Unqueued.count - unqueued_before, errors


@dataclass
class Approved:
    label: str
    committed: dict[str, float]  # request id -> commit
    started: float
    done: float
    unqueued: int  # approvals whose delivery task could not be queued
    errors: int  # approvals that failed with a database error, then made again

    @property
    def keys(self) -> set[str]:
        return set(self.committed)


def approve(pool, label: str, decision_ids: list[int], supervisors, spread_over: float = 0):
    start_at = time.time() + 0.2
    interval = spread_over * APPROVERS / len(decision_ids)
    jobs = [
        (decision_ids[i::APPROVERS], supervisors[i].pk, start_at, interval)
        for i in range(APPROVERS)
    ]
    results = pool.map(_approve, jobs, chunksize=1)
    committed = {key: at for pairs, _, _ in results for key, at in pairs}
    unqueued = sum(count for _, count, _ in results)
    errors = sum(count for _, _, count in results)
    return Approved(label, committed, start_at, max(committed.values()), unqueued, errors)


def deadlocks() -> int:
    """Transactions PostgreSQL has aborted as deadlocked in this database, so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


# --- Waiting ---------------------------------------------------------------------------------


def received_keys(simulator) -> set[str]:
    with simulator.lock:
        return {arrival.key for arrival in simulator.arrivals}


def wait_for_receipts(simulator, keys: set[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not keys <= received_keys(simulator) and time.monotonic() < deadline:
        time.sleep(0.1)


def statuses(keys: set[str]) -> Counter:
    from django.db.models import Count

    from moderation.models import TakedownRequest

    rows = TakedownRequest.objects.filter(pk__in=keys).values_list("status").annotate(Count("pk"))
    return Counter(dict(rows))


def settle(keys: set[str], *, timeout: float, report_every: float = 0) -> float:
    """Wait until none of these requests is pending or sent; return when that was."""
    from django.db.models import Min

    from moderation.models import TakedownRequest

    deadline, reported = time.monotonic() + timeout, time.monotonic()
    while True:
        counts = statuses(keys)
        still = counts["pending"] + counts["sent"]
        if not still or time.monotonic() > deadline:
            return time.time()
        if report_every and time.monotonic() - reported > report_every:
            reported = time.monotonic()
            due = TakedownRequest.objects.filter(pk__in=keys, status="pending").aggregate(
                Min("next_attempt_at")
            )["next_attempt_at__min"]
            say(
                BENCH,
                f"  {counts['acknowledged']} acknowledged, {counts['failed']} failed, "
                f"{counts['pending']} pending, {counts['sent']} sent"
                + (f"; next retry due {due:%H:%M:%S}" if due else ""),
            )
        time.sleep(1)


# --- The faulty run's events -----------------------------------------------------------------


class Breaker(threading.Thread):
    """The faulty run's events, at set points of its approval phase: a window of 429s, the
    worker SIGKILLed while it has requests in flight (and started again), Redis restarted."""

    def __init__(self, *, simulator, worker, redis) -> None:
        super().__init__(daemon=True)
        self.simulator, self.worker, self.redis = simulator, worker, redis
        self.events: Counter = Counter()
        self.notes: list[str] = []
        self.started = time.monotonic()

    def _at(self, share: float) -> None:
        time.sleep(max(0.0, self.started + share * FAULTY_APPROVAL_S - time.monotonic()))

    def run(self) -> None:
        from django.db import connection

        from moderation.models import TakedownRequest

        try:
            self._at(0.15)
            self.simulator.switches.update({"rate_429": 1.0})
            time.sleep(THROTTLE_S)
            self.simulator.switches.update({"rate_429": 0.0})
            self.notes.append(f"429 with Retry-After: {RETRY_AFTER_S} for {THROTTLE_S} s")

            self._at(0.3)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                in_flight = TakedownRequest.objects.filter(status="sent").count()
                if in_flight:
                    break
                time.sleep(0.05)
            with self.worker.lock:
                self.worker.kill()
                self.events["worker_sigkill"] += 1
                down = time.monotonic()
                time.sleep(1)
                self.worker.start()
            self.notes.append(
                f"worker SIGKILLed with {in_flight} request(s) sent and unanswered; "
                f"working again {time.monotonic() - down:.1f} s later"
            )

            self._at(0.55)
            self.redis.restart(down_for=REDIS_DOWN_S)
            self.events["redis_restart"] += 1
            self.notes.append(f"Redis stopped for {REDIS_DOWN_S} s, its queue lost, restarted")
        finally:
            connection.close()


# --- One run's figures -----------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    approvals_per_s: float
    statuses: Counter
    view: object  # delivery_figures.OperatorView
    delivered: int  # acted on by the operator and acknowledged on our side
    deliveries_per_s: float
    drain_per_s: float
    p50_s: float | None
    p95_s: float | None
    second_orders: int
    unqueued: int
    errors: int
    attempts: Counter = field(default_factory=Counter)
    throttled_of_failed: int = 0  # 429s among the attempts of requests that ended failed
    throttled_most: int = 0  # the most attempts one request spent on 429s

    @property
    def duplicate_actions(self) -> int:
        return self.view.actions_twice + self.second_orders


def figures(approved: Approved, simulator, case_of: dict[str, int]) -> Figures:
    from django.db.models import Count

    from moderation.models import DeliveryAttempt, TakedownRequest

    keys = approved.keys
    with simulator.lock:
        arrivals = list(simulator.arrivals)
    view = operator_view(arrivals, keys)
    acknowledged = set(
        str(pk)
        for pk in TakedownRequest.objects.filter(pk__in=keys, status="acknowledged").values_list(
            "pk", flat=True
        )
    )
    first = view.first_receipt
    latencies = [first[key] - approved.committed[key] for key in first]
    span = max(first.values(), default=0) - approved.started
    drain = max(first.values(), default=0) - min(first.values(), default=0)
    attempts = Counter(
        dict(
            DeliveryAttempt.objects.filter(request_id__in=keys)
            .values_list("outcome")
            .annotate(Count("pk"))
        )
    )
    throttled = DeliveryAttempt.objects.filter(request_id__in=keys, outcome="throttled")
    throttled_of_failed = throttled.filter(request__status="failed").count()
    throttled_most = max(
        throttled.values("request").annotate(n=Count("pk")).values_list("n", flat=True),
        default=0,
    )
    return Figures(
        label=approved.label,
        approvals_per_s=len(keys) / max(approved.done - approved.started, 1e-9),
        statuses=statuses(keys),
        view=view,
        delivered=len(acknowledged & view.acted),
        deliveries_per_s=len(first) / span if span > 0 else 0.0,
        drain_per_s=(len(first) - 1) / drain if drain > 0 else 0.0,
        p50_s=percentile(latencies, 0.50),
        p95_s=percentile(latencies, 0.95),
        second_orders=second_orders(set(first), case_of),
        unqueued=approved.unqueued,
        errors=approved.errors,
        attempts=attempts,
        throttled_of_failed=throttled_of_failed,
        throttled_most=throttled_most,
    )


# --- The benchmark ---------------------------------------------------------------------------


def main() -> int:
    logs = Path(tempfile.mkdtemp(prefix="saring-bench-delivery-"))
    redis = BenchRedis()
    redis.start()
    os.environ["REDIS_URL"] = redis.url
    os.environ.update({name: str(value) for name, value in SETTINGS.items()})
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        with own_database(BENCH) as database_url:
            django_ready()
            return benchmark(database_url, redis, logs)
    finally:
        redis.stop()


def benchmark(database_url: str, redis: BenchRedis, logs: Path) -> int:
    from django.db import connections

    from accounts.models import Platform
    from devtools.simulator import FAULTS, OperatorSimulator, Switches
    from moderation.models import TakedownRequest

    moderator, _ = staff("bench-moderator", "Moderator")
    supervisors = [staff(f"bench-supervisor-{i}", "Supervisor")[0] for i in range(APPROVERS)]
    signing, callback = secrets.token_hex(24), secrets.token_hex(24)
    # Callbacks off: delivery ends at the operator's acknowledgement.
    simulator = OperatorSimulator(
        {SLUG: (signing, callback)}, switches=Switches(callback_delay=-1)
    ).start()
    # The platform's own rate limit set far above what is measured, so it never paces.
    platform = Platform.objects.create(
        slug=SLUG,
        name="Bench operator",
        endpoint_url=simulator.endpoint(SLUG),
        signing_secret=signing,
        callback_secret=callback,
        rate_limit_per_second=10_000,
    )
    proposals = {
        label: make_proposals(label, moderator=moderator, platform=platform)
        for label in ("backlog", "clean", "faulty")
    }
    env = dict(os.environ) | {"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    worker = celery_worker(concurrency=CONCURRENCY, env=env, log=logs / "worker.log")
    beat = celery_beat(env=env, log=logs / "beat.log")
    say(BENCH, f"{N} approvals per run; logs in {logs} (kept if anything went wrong)")
    for name, value in SCALED.items():
        say(BENCH, f"scaled: {name} {PRODUCTION[name]} -> {value}")
    connections.close_all()  # the approving processes are forked: no connection to share
    pool = multiprocessing.get_context("fork").Pool(APPROVERS, initializer=_approver_ready)
    approver_pids = [process.pid for process in pool._pool]  # for py-spy
    restarter = Restarter(worker, beat)
    breaker = None
    try:
        say(BENCH, "backlog: approving with no worker running, then starting one")
        backlog = approve(pool, "backlog", proposals["backlog"], supervisors)
        worker.start()
        wait_for_receipts(simulator, backlog.keys, timeout=RECEIPT_WAIT_S)
        settle(backlog.keys, timeout=60)

        beat.start()
        restarter.start()
        say(BENCH, "clean: approving as fast as the approvers go, delivering meanwhile")
        pids = {f"approver{i}": pid for i, pid in enumerate(approver_pids)}
        pids |= {f"worker{i}": pid for i, pid in enumerate(children(worker.pid)[:2])}
        sampler = LockSampler(database_url)
        with Profile(PROFILE_DIR, "clean", pids):
            sampler.start()
            clean = approve(pool, "clean", proposals["clean"], supervisors)
            wait_for_receipts(simulator, clean.keys, timeout=RECEIPT_WAIT_S)
            sampler.stop()
        settle(clean.keys, timeout=60)

        say(BENCH, f"faulty: approving over {FAULTY_APPROVAL_S} s while everything breaks")
        simulator.switches.update(
            FAULT_SHARES
            | {"hang_seconds": HANG_S, "retry_after": RETRY_AFTER_S, "next_faults": FAULTS}
        )
        breaker = Breaker(simulator=simulator, worker=worker, redis=redis)
        breaker.start()
        faulty = approve(pool, "faulty", proposals["faulty"], supervisors, FAULTY_APPROVAL_S)
        breaker.join()
        say(BENCH, f"faulty: waiting (at most {SETTLE_S / 60:.0f} min) for every request to end")
        settled_at = settle(faulty.keys, timeout=SETTLE_S, report_every=60)
        simulator.switches.update(dict.fromkeys(FAULT_SHARES, 0.0))

        case_of = {
            str(pk): case for pk, case in TakedownRequest.objects.values_list("pk", "case_id")
        }
        runs = [figures(run, simulator, case_of) for run in (backlog, clean, faulty)]
        with simulator.lock:
            strangers = {a.key for a in simulator.arrivals} - set(case_of)
        requests_per_case = TakedownRequest.objects.values("case").distinct().count()
        second_rows = TakedownRequest.objects.count() - requests_per_case
    finally:
        pool.terminate()
        if restarter.is_alive():
            restarter.stop()
        for process in (beat, worker):
            process.stop()
        simulator.stop()
        if breaker is not None:
            breaker.join(30)
    broken = deadlocks()  # every other backend has gone: their counts are in
    task_errors = (logs / "worker.log").read_text().count(" raised unexpected: ")
    status = report(
        runs,
        faulty_settle_s=settled_at - faulty.done,
        breaker=breaker,
        sampler=sampler,
        strangers=len(strangers),
        second_rows=second_rows,
        deadlocks=broken,
        restarts=restarter.restarts,
        task_errors=task_errors,
    )
    if status == 0 and not (broken or task_errors or restarter.restarts):
        shutil.rmtree(logs)  # nothing in them to look into
    return status


def report(
    runs,
    *,
    faulty_settle_s,
    breaker,
    sampler,
    strangers,
    second_rows,
    deadlocks,
    task_errors,
    restarts,
) -> int:
    backlog, clean, faulty = runs
    print_table(runs)
    faults = dict(faulty.view.faults) | dict(breaker.events)
    print_faulty_run(faulty, faults, breaker.notes, faulty_settle_s)
    print(
        f"deadlocks PostgreSQL broke (whole benchmark): {deadlocks}; delivery tasks that "
        f"raised: {task_errors} (their requests wait for the sweeper); approvals that failed "
        f"and were made again: {', '.join(f'{r.label} {r.errors}' for r in runs)}"
    )
    print(
        "Celery processes that exited on their own and were started again: "
        + (", ".join(restarts) if restarts else "none")
    )
    # Each takedown writes audit events twice: its approval, then its acknowledgement.
    appends = sum(clean.attempts[o] for o in ("acknowledged", "duplicate")) + N
    print(f"clean run, PostgreSQL: {sampler.summary(appends)}")
    if PROFILE_DIR:
        print(f"py-spy profiles of the clean run: {PROFILE_DIR}")

    duplicates = sum(r.duplicate_actions for r in runs)
    second = sum(r.second_orders for r in runs)
    live, p95, delivered = clean.deliveries_per_s, clean.p95_s, faulty.delivered
    print()
    print(f"goal: >= 100 deliveries/s live: {live:.1f}/s, {goal(live >= 100)}")
    print(f"goal: p95 < 1 s: {_s(p95)} s, {goal(p95 is not None and p95 < 1)}")
    print(f"goal: every request delivered under faults: {delivered}/{N}, {goal(delivered == N)}")
    print(
        f"goal: 0 duplicate actions: {duplicates} (a key acted on twice: "
        f"{sum(r.view.actions_twice for r in runs)}; a second request id for a case: {second}; "
        f"second request rows for a case in our database: {second_rows}; ids the operator saw "
        f"that we never issued: {strangers}), {goal(duplicates == 0)}"
    )
    emit(
        {
            "bench": BENCH,
            "n": N,
            "approvals_per_s": round(clean.approvals_per_s, 1),
            "live_deliveries_per_s": round(live, 1),
            "p50_s": _round(clean.p50_s),
            "p95_s": _round(p95),
            "backlog_deliveries_per_s": round(backlog.drain_per_s, 1),
            "faulty_delivered": delivered,
            "faulty_total": N,
            "faulty_failed": faulty.statuses["failed"],
            "faulty_settle_s": round(faulty_settle_s, 1),
            "duplicate_actions": duplicates,
            "second_request_ids": second,
            "resends_after_action": sum(r.view.resends_after_action for r in runs),
            "deadlocks": deadlocks,
            "celery_crashes": len(restarts),
            "audit_lock_held_share": round(sampler.held_share, 3),
            "audit_lock_hold_ms": round(sampler.hold_ms(appends), 1),
            "faults": faults,
            "settings_scaled": {
                name: {"production": PRODUCTION[name], "used": value}
                for name, value in SCALED.items()
            },
        }
    )
    lost = sum(r.statuses["pending"] + r.statuses["sent"] for r in runs) + sum(
        r.statuses["acknowledged"] - r.delivered for r in runs
    )
    # Slow or dead-lettered is a figure; lost or doubled is a broken guarantee.
    return 1 if lost or duplicates or strangers or second_rows else 0


def print_table(runs: list[Figures]) -> None:
    print()
    print(
        f"Takedown delivery: {N} approvals per run by {APPROVERS} approving processes; one "
        f"Celery worker (prefork, {CONCURRENCY} processes) and Celery beat; the operator "
        "simulator over HTTP on loopback"
    )
    scaled_text = ", ".join(f"{k} {PRODUCTION[k]} -> {v}" for k, v in SCALED.items())
    print(
        "Settings: production's (config/settings.py)"
        + (f", except {scaled_text}: {SCALED_BECAUSE}" if SCALED else "")
    )
    print()
    header = (
        f"{'run':<8} {'approvals/s':>11} {'delivered':>10} {'deliveries/s':>12} {'p50 s':>7} "
        f"{'p95 s':>7} {'failed':>6} {'open':>5} {'dup. actions':>12} "
        f"{'resent after action':>19}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        backlog = r.label == "backlog"
        rate = r.drain_per_s if backlog else r.deliveries_per_s
        p50, p95 = (None, None) if backlog else (r.p50_s, r.p95_s)
        print(
            f"{r.label:<8} {r.approvals_per_s:>11.1f} {f'{r.delivered}/{N}':>10} "
            f"{rate:>12.1f} {_s(p50):>7} {_s(p95):>7} {r.statuses['failed']:>6} "
            f"{r.statuses['pending'] + r.statuses['sent']:>5} {r.duplicate_actions:>12} "
            f"{r.view.resends_after_action:>19}"
        )
    print()
    print(
        "delivered: the operator acted on it and we recorded its acknowledgement. "
        "deliveries/s: backlog, the worker draining a full queue (first to last receipt); "
        "clean and faulty, live: from the first approval's commit to the last first receipt. "
        "p50/p95: from an approval's commit to the operator's first receipt. resent after "
        "action: requests for a takedown the operator had already done (answered 409 at most)."
    )


def print_faulty_run(faulty: Figures, faults: dict, notes: list[str], settle_s: float) -> None:
    print(f"faults injected in the faulty run: {_listing(faults)}")
    for note in notes:
        print(f"  {note}")
    print(
        f"  approvals whose delivery could not be queued (Redis down; the sweeper sends them): "
        f"{faulty.unqueued}"
    )
    print(f"  operator's answers: {_listing(faulty.view.answers)}")
    print(f"  our delivery attempts by outcome: {_listing(faulty.attempts)}")
    print(
        f"  429s: {faulty.attempts['throttled']} answers, at most {faulty.throttled_most} to one "
        f"request; none counts toward its {SETTINGS['TAKEDOWN_MAX_ATTEMPTS']} attempts"
    )
    still = faulty.statuses["pending"] + faulty.statuses["sent"]
    if still:
        print(f"  still pending or sent {settle_s:.0f} s after the last approval: {still}")
    else:
        print(f"  every request had ended {settle_s:.0f} s after the last approval")
    if faulty.statuses["failed"]:
        print(
            f"  failed (dead letters a supervisor must retry): {faulty.statuses['failed']}, "
            f"with {faulty.throttled_of_failed} 429s among their attempts"
            + (
                ": each 429 uses up one of the TAKEDOWN_MAX_ATTEMPTS "
                "(moderation/takedowns/services/delivery.py _record_answer counts attempts "
                "before it looks at the 429)"
                if faulty.throttled_of_failed
                else ""
            )
        )
    acted_not_acked = len(faulty.view.acted) - faulty.delivered
    if acted_not_acked:
        print(f"  taken down by the operator but not acknowledged on our side: {acted_not_acked}")
    print(
        f"  resent after the operator had acted: {faulty.view.resends_after_action}, of which "
        f"after a clean 2xx/409 answer (the worker died or its transaction was aborted before "
        f"it recorded the answer): {faulty.view.resends_after_clean_answer}"
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _listing(counts: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


if __name__ == "__main__":
    sys.exit(main())
