"""Reads for the supervisors' objection pages: the queue, one objection with everything a
decision needs, and the counts the navigation shows. Writes live in services.py.

The queue pages by keyset in two segments: first the objections awaiting a decision, the
nearest deadline first (`objection_status_deadline_idx`), then the decided ones, the newest
first (`objection_received_idx`). A cursor names its segment, so "all" reads the awaiting
ones to the end and then carries on into the decided ones; page 500 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from moderation.keyset import BadCursor, cursor_decode, cursor_encode
from moderation.models import Objection, ObjectionAttachment, RestoreAttempt
from reports.models import INLINE_IMAGE_TYPES, Evidence

PAGE_SIZE = 50
EVIDENCE_SHOWN = 12

AWAITING, DECIDED = 0, 1  # the queue's segments, in the order it reads them
RECEIVED = Objection.Status.RECEIVED

# What each filter of the queue shows: its segments, and what narrows them.
SHOWS: dict[str, tuple[tuple[int, ...], Q]] = {
    "all": ((AWAITING, DECIDED), Q()),
    "awaiting": ((AWAITING,), Q()),
    "overdue": ((AWAITING,), Q()),  # narrowed by the deadline at read time
    "decided": ((DECIDED,), Q()),
    "upheld": ((DECIDED,), Q(status=Objection.Status.UPHELD)),
    "granted": ((DECIDED,), Q(status=Objection.Status.GRANTED)),
}
DEFAULT_SHOW = "all"


def overdue_objections(now: datetime) -> Q:
    """The one definition of an overdue objection: its deadline passed and it is still
    awaiting a decision (the queue's mark and filter, and the navigation's badge)."""
    return Q(status=RECEIVED, deadline__lt=now)


@dataclass(frozen=True)
class ObjectionPage:
    rows: Sequence[Objection]
    next_cursor: str | None
    show: str


def _segment(segment: int, show: str, now: datetime) -> QuerySet[Objection]:
    queryset = Objection.objects.select_related(
        "platform", "account", "takedown", "proposed_by", "approved_by", "decided_by"
    ).defer("takedown__summary", "statement", "further_statements")
    if segment == AWAITING:
        queryset = queryset.filter(status=RECEIVED)
        if show == "overdue":
            queryset = queryset.filter(deadline__lt=now)
        return queryset.order_by("deadline", "id")
    return queryset.exclude(status=RECEIVED).filter(SHOWS[show][1]).order_by("-received_at", "-id")


def _after(queryset: QuerySet[Objection], segment: int, moment: datetime, pk: int) -> QuerySet:
    if segment == AWAITING:
        return queryset.filter(Q(deadline__gt=moment) | Q(deadline=moment, id__gt=pk))
    return queryset.filter(Q(received_at__lt=moment) | Q(received_at=moment, id__lt=pk))


def _key(objection: Objection) -> str:
    if objection.status == RECEIVED:
        return cursor_encode(AWAITING, objection.deadline, objection.pk)
    return cursor_encode(DECIDED, objection.received_at, objection.pk)


def objection_page(
    *, show: str = DEFAULT_SHOW, cursor: str = "", limit: int = PAGE_SIZE
) -> ObjectionPage:
    """One page of the queue as `show` filters it (a key of SHOWS). At most one query per
    segment, whatever the number of rows. Raises BadCursor for a cursor this list did not
    write (or one of another filter's segment)."""
    now = timezone.now()
    segments = SHOWS[show][0]
    start, after = segments[0], None
    if cursor:
        segment, moment, pk = cursor_decode(cursor, (int, datetime, int))
        if segment not in segments:
            raise BadCursor(cursor)
        start, after = segment, (moment, pk)
    rows: list[Objection] = []
    for segment in segments:
        if segment < start:
            continue
        queryset = _segment(segment, show, now)
        if segment == start and after is not None:
            queryset = _after(queryset, segment, *after)
        rows += list(queryset[: limit + 1 - len(rows)])
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row.is_overdue = is_overdue(row)  # type: ignore[attr-defined]
    return ObjectionPage(rows=rows, next_cursor=_key(rows[-1]) if more else None, show=show)


@dataclass(frozen=True)
class AwaitingCounts:
    awaiting: int
    overdue: int


def objections_awaiting_counts() -> AwaitingCounts:
    """How many objections await a decision and how many of those are overdue: one query
    over the awaiting rows only (`objection_status_deadline_idx`), cheap enough for the
    navigation of every supervisor's and auditor's page."""
    now = timezone.now()
    row = Objection.objects.filter(status=RECEIVED).aggregate(
        awaiting=Count("id"), overdue=Count("id", filter=Q(deadline__lt=now))
    )
    return AwaitingCounts(awaiting=row["awaiting"], overdue=row["overdue"])


def objection_detail(*, objection_id: int) -> Objection | None:
    """One objection with the takedown it objects to (the decision, its approval, the
    request and its delivery) and, once granted, the restore request and its attempts."""
    return (
        Objection.objects.select_related(
            "platform",
            "account",
            "case",
            "decision__legal_basis",
            "approval",
            "proposed_by",
            "approved_by",
            "decided_by",
            "takedown",
            "restore_request",
        )
        .prefetch_related(
            Prefetch("attachments", queryset=ObjectionAttachment.objects.order_by("pk")),
            Prefetch(
                "restore_request__deliveries", queryset=RestoreAttempt.objects.order_by("number")
            ),
        )
        .filter(pk=objection_id)
        .first()
    )


def case_evidence(*, case_id: int, limit: int = EVIDENCE_SHOWN) -> tuple[list[Evidence], bool]:
    """The first `limit` pictures of the case's reports, in the order they arrived, and
    whether there are more (the case page shows them all)."""
    pictures = list(
        Evidence.objects.filter(
            report__case_id=case_id, content_type__in=INLINE_IMAGE_TYPES
        ).order_by("pk")[: limit + 1]
    )
    return pictures[:limit], len(pictures) > limit


def further_statements(objection: Objection) -> list[dict]:
    """The statements repeats added, each with its moment read back (stored as ISO text in
    JSON) and its source's label, for the page to show in WIB."""
    sources = dict(Objection.Source.choices)
    shown = []
    for entry in objection.further_statements:
        try:
            at = datetime.fromisoformat(str(entry.get("at", "")))
        except ValueError:
            at = None
        source = entry.get("source", "")
        shown.append(
            {"at": at, "source_label": sources.get(source, source), "text": entry.get("text", "")}
        )
    return shown


def is_overdue(objection: Objection) -> bool:
    return objection.status == RECEIVED and objection.deadline < timezone.now()
