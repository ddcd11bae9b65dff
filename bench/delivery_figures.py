"""The delivery benchmark's figures: what the operator saw (its ledger of every request it
received), and where PostgreSQL backends wait while deliveries run (pg_stat_activity sampled)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# The simulator's fault names as the benchmark reports them.
FAULT_NAMES = {
    "503": "503",
    "429": "429_retry_after",
    "hang": "hang",
    "reset": "reset",
    "acted_503": "acted_then_503",
    "acted_reset": "acted_then_reset",
    "acted_hang": "acted_then_hang",
}


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class OperatorView:
    """One run's requests as the operator saw them, from every request it received."""

    first_receipt: dict[str, float]  # key -> when the operator first received it
    acted: set[str]  # keys the operator acted on (took the account down)
    actions_twice: int  # actions beyond the first on one Idempotency-Key
    resends_after_action: int  # requests for a takedown already done, whatever the answer
    resends_after_clean_answer: int  # ... whose previous request was answered 2xx/409 cleanly
    faults: Counter = field(default_factory=Counter)  # FAULT_NAMES value -> requests
    answers: Counter = field(default_factory=Counter)  # "201", "409", "503", "reset", …


def operator_view(arrivals, keys: set[str]) -> OperatorView:
    """`arrivals`: the simulator's ledger; `keys`: the request ids this run issued, and any
    the operator received that belong to no run (strangers are counted apart)."""
    by_key: dict[str, list] = defaultdict(list)
    for arrival in arrivals:
        if arrival.key in keys:
            by_key[arrival.key].append(arrival)
    view = OperatorView({}, set(), 0, 0, 0)
    for key, seen in by_key.items():
        seen.sort(key=lambda a: a.at)
        view.first_receipt[key] = seen[0].at
        actions = [i for i, a in enumerate(seen) if a.acted]
        if actions:
            view.acted.add(key)
            view.actions_twice += len(actions) - 1
            later = seen[actions[0] + 1 :]
            view.resends_after_action += len(later)
            view.resends_after_clean_answer += sum(
                1
                for before in seen[actions[0] : -1]
                if not before.fault and before.status in (200, 201, 409)
            )
        for arrival in seen:
            view.answers["reset" if arrival.status is None else str(arrival.status)] += 1
            if arrival.fault:
                view.faults[FAULT_NAMES[arrival.fault]] += 1
    return view


def second_orders(received: set[str], case_of: dict[str, int]) -> int:
    """Request ids the operator received beyond the first for one case: a second takedown
    order for one decision, which its Idempotency-Key cannot catch."""
    per_case = Counter(case_of[key] for key in received if key in case_of)
    return sum(count - 1 for count in per_case.values())


# --- Where PostgreSQL backends wait ----------------------------------------------------------

# Any advisory lock a backend holds. Until the audit trail became a Merkle tree every write
# took the chain's advisory lock; now the write path takes none, and this shows it.
_SAMPLE = """
SELECT
  count(*) FILTER (WHERE a.xact_start IS NOT NULL),
  count(*) FILTER (WHERE a.wait_event = 'advisory'),
  (SELECT coalesce(h.state, '') || '/' || coalesce(h.wait_event, '')
     FROM pg_locks l JOIN pg_stat_activity h ON h.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND h.datname = current_database()
    LIMIT 1)
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.backend_type = 'client backend'
"""


class LockSampler(threading.Thread):
    """Samples pg_stat_activity every `interval` s: how many backends have a transaction
    open, how many of them wait for an advisory lock, and what a holder of one is doing
    (running SQL, waiting for its client, flushing WAL at commit)."""

    def __init__(self, database_url: str, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = database_url, interval
        self.stopping = threading.Event()
        self.samples = 0
        self.in_transaction = 0
        self.waiting = 0
        self.holder: Counter = Counter()

    def run(self) -> None:
        import psycopg

        self.started = time.monotonic()
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.wait(self.interval):
                open_, waiting, holder = conn.execute(_SAMPLE).fetchone()
                self.samples += 1
                self.in_transaction += open_
                self.waiting += waiting
                self.holder[_holder_doing(holder)] += 1

    def stop(self) -> LockSampler:
        self.stopping.set()
        self.join(10)
        self.seconds = time.monotonic() - self.started
        return self

    @property
    def held_share(self) -> float:
        return 1 - self.holder["free"] / self.samples if self.samples else 0.0

    def hold_ms(self, appends: int) -> float:
        """Mean time the lock was held per appending transaction (`appends` of them)."""
        return 1000 * self.seconds * self.held_share / max(appends, 1)

    def summary(self, appends: int) -> str:
        if not self.samples:
            return "no samples"
        held = self.samples - self.holder["free"]
        doing = ", ".join(
            f"{what} {count / held:.0%}"
            for what, count in self.holder.most_common()
            if what != "free" and held
        )
        return (
            f"{self.samples} samples: on average {self.in_transaction / self.samples:.1f} "
            f"backends in a transaction, {self.waiting / self.samples:.1f} of them waiting for "
            f"an advisory lock; one was held in {held / self.samples:.0%} of samples"
            + (f", its holder then: {doing}" if doing else "")
            + f"; about {self.hold_ms(appends):.1f} ms held per appending transaction "
            f"({appends} in {self.seconds:.1f} s)"
        )


def _holder_doing(holder: str | None) -> str:
    if not holder:
        return "free"
    state, _, wait = holder.partition("/")
    if state == "idle in transaction":
        return "waiting for its client (Python, or its turn on a CPU)"
    if wait.upper().startswith("WAL"):
        return "writing or flushing WAL"
    return "running SQL"
