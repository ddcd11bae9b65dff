"""Objections counted, for the supervisors' dashboard (issue 18): how many came in, how many
wait (and are overdue), how many were decided by their deadline, how often a takedown was
granted on objection, by category and by the moderator who proposed it, and the restore
requests of granted objections.

The period's figures follow the objections *received* in it (a cohort, as operator
compliance follows the requests issued in the period) and the restore requests issued in it:
`objection_counts`, a few grouped queries through the `received_at` index. A cohort's counts
change as its objections are decided, so they cannot be summed per day like reports; the
dashboard keeps them in its periodic snapshot beside the medians, and counts live only before
the first refresh. Objections awaiting a decision and restore requests still on their way
are "now" figures, read live through the (status, deadline) and (status, next attempt)
indexes, which hold few such rows.

The granted share by proposer is a quality signal for supervisors — which proposals did not
survive a second look — not a ranking of people: it is listed by name, and a share of fewer
than MIN_DECISIONS decisions is not given at all, only its counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from accounts.categories import Category
from moderation.models import Objection, RestoreRequest
from moderation.objections.selectors import overdue_objections

# Below this many decisions a share says more about chance than about anyone's work.
MIN_DECISIONS = 5
# Restore requests still on their way to the operator (a failed one waits for a supervisor).
RESTORES_IN_FLIGHT = (
    RestoreRequest.Status.PENDING,
    RestoreRequest.Status.SENT,
    RestoreRequest.Status.ACKNOWLEDGED,
)
DECIDED = (Objection.Status.UPHELD, Objection.Status.GRANTED)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class GrantedShare:
    """Of the decided objections of one category or one proposer: how many were granted."""

    key: str  # the category's value, or the proposer's username
    label: str
    decided: int
    granted: int

    @property
    def enough(self) -> bool:
        return self.decided >= MIN_DECISIONS

    @property
    def share(self) -> float | None:
        """The granted share in percent, or None below MIN_DECISIONS decisions."""
        return _share(self.granted, self.decided) if self.enough else None


@dataclass(frozen=True)
class ObjectionFigures:
    as_of: datetime  # when the period's figures were counted
    received: int  # in the period
    decided: int  # of those received in the period
    in_time: int  # decided no later than the deadline
    granted: int
    by_category: list[GrantedShare]
    by_proposer: list[GrantedShare]
    restored: int  # restore requests issued in the period and confirmed restored
    awaiting: int  # now, whenever received
    overdue: int  # now: awaiting and past the deadline
    restores_in_flight: int  # now
    restores_failed: int  # now: dead letters a supervisor can retry
    restored_by_platform: dict[int, int] = field(default_factory=dict)  # platform id -> restored

    @property
    def late(self) -> int:
        return self.decided - self.in_time

    @property
    def share_in_time(self) -> float | None:
        return _share(self.in_time, self.decided)

    @property
    def share_granted(self) -> float | None:
        return _share(self.granted, self.decided)


def objection_counts(*, since: datetime) -> dict[str, Any]:
    """The period's counts as plain JSON (the dashboard's snapshot keeps them): the objections
    received from `since` on, grouped by the takedown's category and the proposer in one
    query, and the restore requests issued from `since` on that the operator confirmed."""
    decided = Q(status__in=DECIDED)
    rows = (
        Objection.objects.filter(received_at__gte=since)
        .values_list("takedown__category", "proposed_by_id")
        .annotate(
            received=Count("pk"),
            decided=Count("pk", filter=decided),
            in_time=Count("pk", filter=decided & Q(decided_at__lte=F("deadline"))),
            granted=Count("pk", filter=Q(status=Objection.Status.GRANTED)),
        )
        .order_by()
    )
    totals = dict.fromkeys(("received", "decided", "in_time", "granted"), 0)
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_proposer: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for category, proposer_id, received, decided_n, in_time, granted in rows:
        for name, value in zip(totals, (received, decided_n, in_time, granted), strict=True):
            totals[name] += value
        if decided_n:
            for per, key in ((per_category, category), (per_proposer, proposer_id)):
                per[key][0] += decided_n
                per[key][1] += granted
    restored = (
        RestoreRequest.objects.filter(status=RestoreRequest.Status.RESTORED, issued_at__gte=since)
        .values_list("platform_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        **totals,
        "by_category": [[key, *counts] for key, counts in per_category.items()],
        "by_proposer": [[key, *counts] for key, counts in per_proposer.items()],
        # JSON object keys are strings: the platform's id as text.
        "restored_by_platform": {str(pid): n for pid, n in restored},
    }


def objection_figures(
    *,
    since: datetime,
    now: datetime,
    counts: dict[str, Any] | None = None,
    counted_at: datetime | None = None,
) -> ObjectionFigures:
    """The dashboard's objection figures: the period's `counts` (the snapshot's, made at
    `counted_at`; counted now when None) with what waits as of `now`."""
    if counts is None:
        counts, counted_at = objection_counts(since=since), now
    labels = dict(Category.choices)
    by_category = sorted(
        (
            GrantedShare(key, str(labels.get(key, key)), decided, granted)
            for key, decided, granted in counts["by_category"]
        ),
        key=lambda row: (-row.decided, row.key),
    )
    users = get_user_model().objects.in_bulk([uid for uid, *_ in counts["by_proposer"]])
    by_proposer = sorted(
        (
            GrantedShare(users[uid].get_username(), users[uid].get_full_name(), decided, granted)
            for uid, decided, granted in counts["by_proposer"]
            if uid in users
        ),
        key=lambda row: row.key.lower(),  # by name: this is not a ranking
    )
    restored_by_platform = {int(pid): n for pid, n in counts["restored_by_platform"].items()}

    waiting = Objection.objects.filter(status=Objection.Status.RECEIVED).aggregate(
        awaiting=Count("pk"), overdue=Count("pk", filter=overdue_objections(now))
    )
    restores = dict.fromkeys(("in_flight", "failed"), 0)
    for status, n in (
        RestoreRequest.objects.filter(
            status__in=[*RESTORES_IN_FLIGHT, RestoreRequest.Status.FAILED]
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        restores["failed" if status == RestoreRequest.Status.FAILED else "in_flight"] += n

    return ObjectionFigures(
        as_of=counted_at or now,
        received=counts["received"],
        decided=counts["decided"],
        in_time=counts["in_time"],
        granted=counts["granted"],
        by_category=by_category,
        by_proposer=by_proposer,
        restored=sum(restored_by_platform.values()),
        awaiting=waiting["awaiting"],
        overdue=waiting["overdue"],
        restores_in_flight=restores["in_flight"],
        restores_failed=restores["failed"],
        restored_by_platform=restored_by_platform,
    )
