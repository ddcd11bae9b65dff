"""Where the intake benchmark's time went (bench/intake.py), measured while it runs.

- `CpuLedger`: the CPU seconds the gunicorn workers, their PostgreSQL backends, the client
  process and py-spy used, against what the whole machine used and could give, from /proc.
  What is left over is other work on the machine: how disturbed the run was.
- `WaitSampler`: every 50 ms, what each of the workers' PostgreSQL backends is doing
  (pg_stat_activity), whether one holds an advisory lock (pg_locks; the write path takes none), and
  which statement waits when a backend waits for a lock.
- `profile_summary`: the workers' request time by stage, from `py-spy record --format raw`.
"""

from __future__ import annotations

import collections
import os
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TICK = os.sysconf("SC_CLK_TCK")
WATCHER = "saring-bench-watcher"  # our own connections, left out of what is measured


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the name in (…) may hold spaces


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return out


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuLedger:
    """CPU seconds used between `start` and `stop` by the workers, their PostgreSQL backends,
    this process (the clients) and the profiler, if any; and by the whole machine."""

    workers: Callable[[], list[int]]
    monitor: psycopg.Connection
    profiler: int | None = None  # py-spy's process
    start_at: dict = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def _backends(self) -> list[int]:
        return [
            pid
            for (pid,) in self.monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND application_name <> %s",
                [WATCHER],
            )
        ]

    def _snapshot(self) -> dict:
        busy, total = _machine()
        return {
            "workers": _cpu_seconds(self.workers()),
            "postgres": _cpu_seconds(self._backends()),
            "py-spy": _cpu_seconds([self.profiler] if self.profiler else []),
            "client": _own_cpu(),
            "busy": busy,
            "total": total,
        }

    def start(self) -> None:
        self.start_at = self._snapshot()

    def stop(self) -> None:
        end, start = self._snapshot(), self.start_at
        for name in ("workers", "postgres", "py-spy"):
            # A process that started during the run started from nothing.
            self.used[name] = sum(v - start[name].get(pid, 0.0) for pid, v in end[name].items())
        self.used["client"] = end["client"] - start["client"]
        self.used["machine"] = end["busy"] - start["busy"]
        self.used["capacity"] = end["total"] - start["total"]


def _statement_head(query: str) -> str:
    """`UPDATE moderation_case`, `INSERT INTO accounts_chataccount`: what a statement does to
    which table."""
    words = query.replace('"', "").split()
    for verb, at in (("INSERT", 2), ("UPDATE", 1), ("DELETE", 2), ("SELECT", None)):
        if words and words[0].upper() == verb:
            if at is None:
                tables = [w for i, w in enumerate(words) if i and words[i - 1].upper() == "FROM"]
                return f"SELECT … FROM {tables[0]}" if tables else "SELECT"  # noqa: S608 - a label
            return " ".join(words[: at + 1])
    return " ".join(words[:3])


class WaitSampler(threading.Thread):
    """What each of our PostgreSQL backends is doing, every 50 ms, and whether one of them
    holds an advisory lock (the write path takes none since the audit log became a Merkle
    tree; before, every write took the chain's)."""

    SQL = """
        SELECT a.state, a.wait_event_type, a.wait_event, left(a.query, 200),
               EXISTS (SELECT 1 FROM pg_locks l
                       WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)
        FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.backend_type = 'client backend'
          AND a.application_name <> %s
    """

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.halt = threading.Event()
        self.states: collections.Counter[str] = collections.Counter()
        self.polls = 0
        self.lock_held = 0
        self.lock_waited = 0
        self.row_waited = 0  # a backend waits for rows another transaction holds

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name=WATCHER) as conn:
            while not self.halt.wait(0.05):
                rows = conn.execute(self.SQL, [WATCHER]).fetchall()
                self.polls += 1
                self.lock_held += any(row[4] for row in rows)
                self.lock_waited += any(row[2] == "advisory" for row in rows)
                self.row_waited += any(row[1] == "Lock" and row[2] != "advisory" for row in rows)
                for state, kind, event, query, holds in rows:
                    self.states[self._label(state, kind, event, query, holds)] += 1

    @staticmethod
    def _label(state: str, kind: str | None, event: str | None, query: str, holds: bool) -> str:
        if state == "idle":
            return "idle: no transaction (between requests)"
        held = "holding an advisory lock, " if holds else ""
        if state == "idle in transaction":
            return f"in a transaction, {held}waiting for the worker (Python)"
        if kind == "Lock" and event == "advisory":
            return "waiting for an advisory lock"
        if kind == "Lock":  # which statement waits for a row another transaction holds
            return f"waiting: Lock {event} in {_statement_head(query)}"
        if kind is None:
            return f"{held}running a statement"
        return f"{held}waiting: {kind} {event}"

    def stop(self) -> None:
        self.halt.set()
        self.join()


# Stages of a batch request, by the function that does them (py-spy frame names).
STAGES = [
    ("parse the JSON body", "JSONParser.parse"),
    ("check each report", "report_input_parse"),
    ("resolve chat accounts", "chat_accounts_resolve"),
    ("open cases", "cases_open_for"),
    ("insert reports", "_reports_insert"),
    ("refresh cases", "cases_refresh"),
    ("audit: write the events", "audit_record_many"),
    ("commit", "BaseDatabaseWrapper.commit"),
    ("render the answer", "JSONRenderer.render"),
]


def profile_summary(path: Path) -> list[str]:
    """The workers' request time by stage, and the busiest leaf functions, from py-spy's raw
    (collapsed stack) output."""
    in_request: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    requests_total = worker_total = in_psycopg = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        if len(processes) < 2:  # the gunicorn master itself
            continue
        count = int(count_text)
        worker_total += count
        frames = [f for f in frames if not f.startswith("process ")]
        names = {f.split(" (", 1)[0] for f in frames}
        if not any(name.endswith("handle_request") for name in names):
            continue
        requests_total += count
        for label, function in STAGES:
            if any(name == function or name.endswith("." + function) for name in names):
                in_request[label] += count
        leaf = frames[-1]
        leaves[leaf] += count
        in_psycopg += count * ("(psycopg/" in leaf)
    if not requests_total:
        return ["  (py-spy recorded no request)"]
    out = [
        f"  py-spy: the workers spent {requests_total / worker_total:.0%} of their time in "
        f"requests ({requests_total:,} samples); of that time:",
        f"    {'in psycopg: waiting for PostgreSQL':<48}{in_psycopg / requests_total:>6.1%}",
    ]
    for label, _ in STAGES:
        out.append(f"    {label:<48}{in_request[label] / requests_total:>6.1%}")
    out.append("  busiest leaf functions (share of request time):")
    for leaf, count in leaves.most_common(12):
        out.append(f"    {count / requests_total:>6.1%}  {leaf[:100]}")
    out.append(f"  raw profile: {path}")
    return out


def print_where_time_went(
    ledger: CpuLedger, sampler: WaitSampler, *, seconds: float, reports: int
) -> None:
    """CPU by process against the machine's, then what the backends were doing."""
    used = ledger.used
    print(
        f"  CPU during the API run ({seconds:.1f} s, {used['capacity']:.1f} CPU-s on "
        f"{os.cpu_count()} cores): machine busy {used['machine'] / used['capacity']:.0%}"
    )
    ours_cpu = sum(used[k] for k in ("workers", "postgres", "client", "py-spy"))
    for name, key in [
        ("gunicorn workers", "workers"),
        ("their PostgreSQL backends", "postgres"),
        ("the clients (this process)", "client"),
        ("py-spy", "py-spy"),
    ]:
        if key != "py-spy" or ledger.profiler:
            print(
                f"    {name:<36}{used[key]:>7.1f} CPU-s  "
                f"{used[key] / max(reports, 1) * 1000:>6.2f} ms a report"
            )
    print(
        f"    {'everything else on the machine':<36}{used['machine'] - ours_cpu:>7.1f} CPU-s  "
        "(other work, PostgreSQL's background processes)"
    )
    polls = max(sampler.polls, 1)
    print(
        f"  an advisory lock was held {sampler.lock_held / polls:.0%} and waited for "
        f"{sampler.lock_waited / polls:.0%} of the run; a worker waited for rows another "
        f"held {sampler.row_waited / polls:.0%} ({sampler.polls:,} polls). The backends' time:"
    )
    backend_samples = max(sum(sampler.states.values()), 1)
    for label, count in sampler.states.most_common(8):
        print(f"    {count / backend_samples:>6.1%}  {label}")
