"""Benchmark of the ring graph (issue 17): `rings_rebuild` over 100,000 reported accounts, and
the returning check intake runs on every batch.

    make bench BENCH=rings                      # 100,000 accounts
    BENCH_SCALE=smoke make bench BENCH=rings    # the same code path on 5,000

In a database of its own (bench/common.py), written with COPY: BENCH_ACCOUNTS accounts on three
platforms (six in ten with a phone number, three in ten with a profile address), each with a
case and a report. About 45 % of them are in rings of 2 to 40 accounts (mostly small, a few of
40): each member is joined to an earlier one by a shared picture (half), a shared number (a
third) or a shared profile address, written the way people write it (scheme, host case,
trailing slash). Picture links are rows of reports.PictureLink as the picture hashing writes
them (that benchmark is bench/pictures.py), with extra copies of the same picture in the same
account. One stock picture per 5,000 accounts is shared by 50 to 80 random accounts, every
copy linked to every other, and one switchboard number per 10,000 accounts is in 30 to 60
random accounts' reports: they must merge nobody. 2 % of the ring members were taken down
(a confirmed takedown request each).

Measured: `rings_rebuild` BENCH_REPEAT times (median, and where the median run's time went:
the lock, loading the edges, the union-find, writing AccountRing); the rings it finds are
checked against the planted ones (`rings_exact`). Then the returning check on intake batches
of 500 random accounts (`accounts_returning`, one query a batch; median of BENCH_REPEAT
batches). Goals: a rebuild within 5 s at 100,000 accounts on 2 cores, beat's period being
RING_REBUILD_SECONDS (300 s); the returning check within 50 ms a batch of 500.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta

from bench.common import SMOKE, django_ready, emit, goal, own_database, say, scaled

BENCH = "rings"
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", scaled(full=100_000, smoke=5_000)))
REPEAT = int(os.environ.get("BENCH_REPEAT", scaled(full=3, smoke=3)))
BATCH = 500
RING_SHARE = 0.45
TAKEN_DOWN_SHARE = 0.02
REBUILD_GOAL_S = 5.0
RETURNING_GOAL_MS = 50.0
# Kept below the stock caps (RING_STOCK_*), so every planted ring stays whole.
SHARE_MAX = 20
PICTURE_REACH_MAX = 8
PLATFORMS = ("michat", "whatsapp", "telegram")


def main() -> int:
    with own_database(BENCH):
        django_ready()
        return run()


# --- The data ----------------------------------------------------------------------------------


class Plan:
    """The accounts, their numbers, profile addresses, pictures and links, and the rings that
    must come out."""

    def __init__(self, n: int, seed: int = 17) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.n = n
        self.phones: list[list[str]] = [
            [f"+62812{i:08d}"] if rng.random() < 0.6 else [] for i in range(n)
        ]
        self.urls = [
            f"https://{PLATFORMS[i % 3]}.example/u/akun{i}" if rng.random() < 0.3 else ""
            for i in range(n)
        ]
        self.pictures: list[int] = []  # evidence -> account (index)
        self.links: list[tuple[int, int]] = []  # evidence pairs
        self.rings: list[list[int]] = []
        self.stock_pictures = 0
        self._holders: dict[str, int] = {}
        self._reach: dict[int, int] = {}
        self._ring_phone: dict[int, str] = {}
        self._ring_picture: dict[int, int] = {}
        self._numbers = 0
        order = list(range(n))
        rng.shuffle(order)
        taken, target = 0, int(n * RING_SHARE)
        while taken < target:
            size = 40 if rng.random() < 0.01 else 2 + min(38, int(rng.expovariate(1 / 4)))
            size = min(size, target - taken) if target - taken >= 2 else 0
            if size < 2:
                break
            members = order[taken : taken + size]
            taken += size
            self.rings.append(members)
            for k in range(1, size):
                self._join(members[k], members[rng.randrange(k)])
        for _ in range(max(2, n // 5000)):
            self._stock(rng.sample(range(n), rng.randint(50, 80)))
        # Switchboard numbers: one in reports on many unrelated accounts, past the cap.
        self.stock_numbers = max(1, n // 10000)
        for k in range(self.stock_numbers):
            for account in rng.sample(range(n), rng.randint(30, 60)):
                self.phones[account].append(f"+6221500{k:04d}")

    def _picture(self, account: int) -> int:
        self.pictures.append(account)
        return len(self.pictures) - 1

    def _link(self, first: int, second: int) -> None:
        self.links.append((min(first, second), max(first, second)))

    def _join(self, child: int, parent: int) -> None:
        roll = self.rng.random()
        if roll < 0.15 and self._share_url(child, parent):
            return
        if roll < 0.5:
            self._share_phone(child, parent)
            return
        self._share_picture(child, parent)

    def _share_phone(self, child: int, parent: int) -> None:
        number = self._ring_phone.get(parent)
        if number is None or self._holders[number] >= SHARE_MAX:
            self._numbers += 1
            number = f"+62813{self._numbers:08d}"
            self.phones[parent].append(number)
            self._holders[number] = 1
            self._ring_phone[parent] = number
        self.phones[child].append(number)
        self._holders[number] += 1
        self._ring_phone.setdefault(child, number)

    def _share_url(self, child: int, parent: int) -> bool:
        if not self.urls[parent]:
            self.urls[parent] = f"https://linktr.ee/ring{parent}"
        key = url_key(self.urls[parent])
        if self._holders.get(key, 1) >= SHARE_MAX:
            return False
        self._holders[key] = self._holders.get(key, 1) + 1
        # Written as people write it: the host's case, the scheme, "www.", a trailing slash.
        host, path = key.split("/", 1)
        self.urls[child] = self.rng.choice(
            (
                f"HTTPS://{host.upper()}/{path}",
                f"http://www.{host}/{path}/",
                f"https://{host}/{path}",
            )
        )
        return True

    def _share_picture(self, child: int, parent: int) -> None:
        theirs = self._ring_picture.get(parent)
        if theirs is None or self._reach[theirs] >= PICTURE_REACH_MAX:
            theirs = self._picture(parent)
            self._reach[theirs] = 0
            self._ring_picture[parent] = theirs
        mine = self._picture(child)
        self._reach[mine] = 1
        self._reach[theirs] += 1
        self._ring_picture.setdefault(child, mine)
        self._link(mine, theirs)
        if self.rng.random() < 0.3:  # the same picture uploaded twice to the child
            copy = self._picture(child)
            self._reach[copy] = 1
            self._reach[theirs] += 1
            self._link(copy, mine)
            self._link(copy, theirs)

    def _stock(self, accounts: list[int]) -> None:
        copies = [self._picture(account) for account in accounts]
        self.stock_pictures += len(copies)
        for i, first in enumerate(copies):
            for second in copies[i + 1 :]:
                self._link(first, second)


def url_key(url: str) -> str:
    """What moderation.rings.graph.profile_url_key makes of a profile address (here, for the
    plan's own bookkeeping)."""
    rest = url.strip().rstrip("/").split("://", 1)[-1]
    host, _, path = rest.partition("/")
    return host.lower().removeprefix("www.") + "/" + path


def seed(plan: Plan) -> int:
    """Write the plan with COPY; returns how many confirmed takedowns were written."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Platform
    from moderation.models import LegalBasis

    now = timezone.now()
    platforms = [
        Platform.objects.create(
            slug=slug,
            name=slug.title(),
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="s" * 32,
            callback_secret="c" * 32,
        ).pk
        for slug in PLATFORMS
    ]
    basis = LegalBasis.objects.create(
        code="uu-ite-27-1", title="UU ITE Pasal 27 ayat (1)", categories=["prostitution"]
    ).pk
    moderator = User.objects.create_user("bench-moderator").pk
    supervisor = User.objects.create_user("bench-supervisor").pk
    members = [account for ring in plan.rings for account in ring]
    down = set(plan.rng.sample(members, int(len(members) * TAKEN_DOWN_SHARE)))
    n = plan.n

    def copy(cursor, table: str, columns: str, rows) -> None:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as writer:
            for row in rows:
                writer.write_row(row)

    with connection.cursor() as cursor:
        copy(
            cursor,
            "accounts_chataccount",
            "id, platform_id, identifier, identifier_kind, display_name, profile_url, "
            "phone_numbers, status, first_reported_at, last_reported_at, created_at, updated_at",
            (
                (
                    i + 1,
                    platforms[i % 3],
                    f"akun{i}",
                    "handle",
                    f"Akun {i}",
                    plan.urls[i],
                    plan.phones[i],
                    "taken_down" if i in down else "under_review",
                    now,
                    now,
                    now,
                    now,
                )
                for i in range(n)
            ),
        )
        copy(
            cursor,
            "moderation_case",
            "id, account_id, status, category, urgent, report_count, reporter_count, "
            "source_kinds, priority, opened_at, last_report_at, closed_at, version, updated_at",
            (
                (
                    i + 1,
                    i + 1,
                    "closed" if i in down else "open",
                    "prostitution",
                    False,
                    1,
                    1,
                    "public",
                    40.0,
                    now,
                    now,
                    now if i in down else None,
                    1,
                    now,
                )
                for i in range(n)
            ),
        )
        copy(
            cursor,
            "reports_report",
            "id, source_kind, category, description, content_urls, "
            "account_identifier_submitted, received_at, urgent, account_id, case_id, "
            "reporter_name, reporter_email, reporter_phone, reporter_consent, receipt_code, "
            "payload_hash",
            (
                (
                    i + 1,
                    "public",
                    "prostitution",
                    "Open BO",
                    [],
                    f"akun{i}",
                    now,
                    False,
                    i + 1,
                    i + 1,
                    "",
                    "",
                    "",
                    False,
                    f"RB{i:012d}",
                    "",
                )
                for i in range(n)
            ),
        )
        copy(
            cursor,
            "reports_evidence",
            "id, report_id, file, original_name, content_type, size, sha256, uploaded_at",
            (
                (e + 1, a + 1, f"bench/{e}.jpg", "", "image/jpeg", 1000, f"{e:064x}", now)
                for e, a in enumerate(plan.pictures)
            ),
        )
        copy(
            cursor,
            "reports_picturelink",
            "id, low_id, high_id, low_account_id, high_account_id, distance, created_at",
            (
                (k + 1, lo + 1, hi + 1, plan.pictures[lo] + 1, plan.pictures[hi] + 1, 8, now)
                for k, (lo, hi) in enumerate(plan.links)
            ),
        )
        downs = sorted(down)
        copy(
            cursor,
            "moderation_decision",
            "id, case_id, moderator_id, outcome, category, legal_basis_id, urgency, rationale, "
            "case_version, created_at",
            (
                (k + 1, i + 1, moderator, "propose_takedown", "prostitution", basis, "normal")
                + ("Seen.", 1, now - timedelta(days=3))
                for k, i in enumerate(downs)
            ),
        )
        copy(
            cursor,
            "moderation_approval",
            "id, decision_id, decision_author_id, supervisor_id, verdict, comment, created_at",
            (
                (k + 1, k + 1, moderator, supervisor, "approved", "", now - timedelta(days=3))
                for k in range(len(downs))
            ),
        )
        copy(
            cursor,
            "moderation_takedownrequest",
            "id, approval_id, case_id, platform_id, account_id, category, legal_basis, urgency, "
            "summary, issued_at, deadline, status, attempts, last_error, operator_reference, "
            "resolved_at, warning_level, updated_at",
            (
                (
                    f"00000000-0000-4000-8000-{k:012d}",
                    k + 1,
                    i + 1,
                    platforms[i % 3],
                    i + 1,
                    "prostitution",
                    "UU ITE Pasal 27 ayat (1)",
                    "normal",
                    "Open BO.",
                    now - timedelta(days=3),
                    now - timedelta(days=2),
                    "taken_down",
                    1,
                    "",
                    "",
                    now - timedelta(days=2, hours=12),
                    0,
                    now,
                )
                for k, i in enumerate(downs)
            ),
        )
        for table in (
            "accounts_chataccount",
            "moderation_case",
            "reports_report",
            "reports_evidence",
            "reports_picturelink",
            "moderation_decision",
            "moderation_approval",
            "moderation_takedownrequest",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return len(downs)


# --- Measuring -----------------------------------------------------------------------------------


def run() -> int:
    from moderation.rings import accounts_returning, rings_rebuild

    started = time.perf_counter()
    plan = Plan(ACCOUNTS)
    members = sum(len(ring) for ring in plan.rings)
    say(
        BENCH,
        f"planned {ACCOUNTS:,} accounts, {len(plan.rings):,} rings ({members:,} accounts), "
        f"{len(plan.pictures):,} pictures, {len(plan.links):,} picture links "
        f"({plan.stock_pictures:,} stock pictures)",
    )
    taken_down = seed(plan)
    say(BENCH, f"written with COPY in {time.perf_counter() - started:.1f} s")

    runs = []
    for number in range(REPEAT):
        result = rings_rebuild()
        runs.append(result)
        say(BENCH, f"rebuild {number + 1}: {result.seconds:.3f} s {result.timings}")
    median = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    exact = (
        median.rings == len(plan.rings)
        and median.accounts == members
        and median.largest == max(len(ring) for ring in plan.rings)
        and median.stock_pictures == plan.stock_pictures
        and median.stock_values == plan.stock_numbers
    )

    rng = random.Random(5)
    samples, flagged = [], 0
    for _ in range(max(REPEAT, 5)):
        batch = [i + 1 for i in rng.sample(range(ACCOUNTS), BATCH)]
        begun = time.perf_counter()
        found = accounts_returning(account_ids=batch)
        samples.append(time.perf_counter() - begun)
        flagged += len(found)
    returning_ms = round(statistics.median(samples) * 1000, 2)
    return report(median, exact, members, plan, taken_down, returning_ms, flagged)


def report(median, exact, members, plan, taken_down, returning_ms, flagged) -> int:
    print()
    print(f"{'rings_rebuild over ' + format(ACCOUNTS, ',') + ' accounts':<44}{'seconds':>10}")
    for part, seconds in median.timings.items():
        print(f"  {part:<42}{seconds:>10.3f}")
    print(f"{'total (median of ' + str(REPEAT) + ')':<44}{median.seconds:>10.3f}")
    print(
        f"found {median.rings:,} rings of {median.accounts:,} accounts (largest "
        f"{median.largest}); planted {len(plan.rings):,} of {members:,}: exact {exact}"
    )
    print(
        f"links that joined accounts: {median.edges}; stock pictures {median.stock_pictures:,} "
        f"(planted {plan.stock_pictures:,}), stock numbers/addresses {median.stock_values} "
        f"(planted {plan.stock_numbers})"
    )
    print(
        f"returning check, a batch of {BATCH} accounts: {returning_ms:.2f} ms median "
        f"({flagged} matches over the batches; {taken_down:,} accounts taken down)"
    )
    rebuild_met = median.seconds <= REBUILD_GOAL_S
    returning_met = returning_ms <= RETURNING_GOAL_MS
    print(f"goal: rebuild <= {REBUILD_GOAL_S:.0f} s: {goal(rebuild_met)}")
    print(f"goal: returning check <= {RETURNING_GOAL_MS:.0f} ms a batch: {goal(returning_met)}")
    if SMOKE:
        print("(smoke scale: the figures say the code runs, not how fast it is)")
    emit(
        {
            "bench": BENCH,
            "accounts": ACCOUNTS,
            "rebuild_s": median.seconds,
            "load_s": median.timings["load"],
            "union_find_s": median.timings["union_find"],
            "write_s": median.timings["write"],
            "rings": median.rings,
            "ring_accounts": median.accounts,
            "largest": median.largest,
            "picture_links": len(plan.links),
            "stock_pictures": median.stock_pictures,
            "edges": median.edges,
            "rings_exact": exact,
            "returning_batch_ms": returning_ms,
            "goal_met": rebuild_met and returning_met and exact,
        }
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
