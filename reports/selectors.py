"""Reads for intake."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count

from config.clock import wib_today
from moderation.models import Case
from reports.models import (
    PDQ_WORDS,
    GraphicEvidenceView,
    PictureHash,
    Report,
    SourceOrganisation,
    pdq_chunk_expression,
)
from reports.pdq import (
    CHUNKS,
    MAX_INDEXED_DISTANCE,
    PdqWords,
    chunk_neighbourhood,
    chunks,
)

# What a reporter may learn: nothing of the moderation's inner steps (DESIGN.md "People").
PUBLIC_STATUS: dict[str, str] = {
    Case.Status.OPEN: "received",
    Case.Status.IN_REVIEW: "in_review",
    Case.Status.ESCALATED: "in_review",
    Case.Status.PROPOSED: "in_review",
    Case.Status.APPROVED: "action_taken",
    Case.Status.DISMISSED: "closed",
    Case.Status.CLOSED: "closed",
}


def report_public_status(*, case_status: str, takedown_approved: bool = False) -> str:
    if case_status == Case.Status.CLOSED and takedown_approved:
        return "action_taken"
    return PUBLIC_STATUS.get(case_status, "received")


def report_status(report: Report) -> str:
    """received / in_review / action_taken / closed."""
    case = report.case
    approved = False
    if case.status == Case.Status.CLOSED:
        approved = case.takedown_requests.exists()
    return report_public_status(case_status=case.status, takedown_approved=approved)


def report_for_organisation(*, organisation: SourceOrganisation, pk: int) -> Report | None:
    return Report.objects.select_related("case").filter(organisation=organisation, pk=pk).first()


def report_by_receipt(code: str) -> Report | None:
    return Report.objects.select_related("case").filter(receipt_code=code.strip().upper()).first()


# --- Reviewer wellbeing (issue 16): graphic pictures seen today, as counts only ------------


def graphic_break_due(seen: int) -> bool:
    """Whether a person who saw `seen` graphic pictures today has reached the day's threshold
    (GRAPHIC_DAILY_BREAK_THRESHOLD), from which a break is suggested."""
    return seen >= settings.GRAPHIC_DAILY_BREAK_THRESHOLD


def graphic_seen_today(*, user: User) -> int:
    """How many distinct graphic pictures `user` was served today (WIB)."""
    return GraphicEvidenceView.objects.filter(day=wib_today(), user=user).count()


@dataclass(frozen=True)
class GraphicSeen:
    user: User
    seen: int

    @property
    def break_due(self) -> bool:
        return graphic_break_due(self.seen)


def graphic_seen_today_totals() -> list[GraphicSeen]:
    """Everyone who saw graphic pictures today (WIB), most first: a number per person, never
    which pictures."""
    people = (
        User.objects.filter(graphic_evidence_views__day=wib_today())
        .annotate(seen=Count("graphic_evidence_views"))
        .order_by("-seen", "username")
    )
    return [GraphicSeen(user=person, seen=person.seen) for person in people]


# --- Picture hashes (issue 17): pictures within PDQ_MATCH_DISTANCE of a new one ----------------


@dataclass(frozen=True)
class PictureMatch:
    evidence_id: int
    distance: int  # the least over the variants searched for


@functools.cache
def _chunk_sql(chunk: int) -> tuple[str, tuple]:
    """Chunk `chunk` of a stored hash in SQL, compiled by Django from pdq_chunk_expression —
    the expression its index is built on, so that the planner recognises the index."""
    query = PictureHash.objects.annotate(chunk=pdq_chunk_expression(chunk)).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(query.annotations["chunk"])
    return sql, tuple(params)


@functools.cache
def _matches_sql(variants: int) -> str:
    """The matching query for this many variants (parameters: see _matches_params)."""
    table = connection.ops.quote_name(PictureHash._meta.db_table)
    distance = " + ".join(
        f"bit_count(({table}.{connection.ops.quote_name(word)} # %s)::bit(64))"
        for word in PDQ_WORDS
    )
    least = f"LEAST({', '.join([f'({distance})'] * variants)})"
    candidates = " OR ".join(f"{_chunk_sql(k)[0]} = ANY(%s::bigint[])" for k in range(CHUNKS))
    return (
        f"SELECT evidence_id, distance FROM ("  # noqa: S608 - built from our own names
        f"SELECT {table}.evidence_id, {least} AS distance FROM {table}"
        f" WHERE {table}.quality >= %s AND {table}.evidence_id <> %s AND ({candidates})"
        f") AS candidate WHERE distance <= %s ORDER BY distance, evidence_id"
    )


def _matches_params(
    variants: Sequence[PdqWords], *, max_distance: int, min_quality: int, exclude: int
) -> list:
    values: list[set[int]] = [set() for _ in range(CHUNKS)]
    for words in variants:
        for k, chunk in enumerate(chunks(words)):
            values[k].update(chunk_neighbourhood(chunk))
    params: list = [word for words in variants for word in words]
    params += [min_quality, exclude]
    for k in range(CHUNKS):
        params += [*_chunk_sql(k)[1], sorted(values[k])]
    return [*params, max_distance]


def picture_matches(
    variants: Sequence[PdqWords],
    *,
    max_distance: int,
    min_quality: int | None = None,
    exclude_evidence: int | None = None,
) -> list[PictureMatch]:
    """Every stored picture hash (of quality ≥ `min_quality`, PDQ_QUALITY_MIN by default)
    within `max_distance` bits of any of `variants` (a new picture's eight dihedral
    variants, or fewer), with the least distance; nearest first.

    Multi-index hashing (reports/pdq.py, README "Picture hashes"): a hash within 31 bits of a
    variant has some 16-bit chunk within one bit of that variant's chunk. For each of the 16
    chunk indexes the query asks for the 17 values around each variant's chunk (`chunk =
    ANY(array)` on the very expression the index is built on: 16 index scans of up to 8 x 17
    values, OR'ed into one bitmap) and computes the exact distance — bit counts of the four
    XORed words — only for those candidates: at 1,000,000 random stored hashes about 3 % of
    the rows, where a full scan bit-counts every row eight times (bench/pictures.py).

    Plain SQL, not the ORM: Django took longer to build this query (eight 4-word distances,
    16 arrays) than PostgreSQL takes to run it. The planner picks the indexes by itself from
    about 30,000 stored hashes (below, a sequential scan is as fast, and it takes that); JIT
    compilation is switched off for the query: from about 4,000,000 rows its cost estimate
    would pass jit_above_cost, and compiling these expressions adds 100-700 ms to a query of
    tens of milliseconds (measured at 300,000 rows, JIT forced)."""
    if not 0 <= max_distance <= MAX_INDEXED_DISTANCE:
        raise ValueError(
            f"max_distance={max_distance}: the chunk indexes find matches up to "
            f"{MAX_INDEXED_DISTANCE} bits only"
        )
    if not variants:
        return []
    params = _matches_params(
        variants,
        max_distance=max_distance,
        min_quality=settings.PDQ_QUALITY_MIN if min_quality is None else min_quality,
        exclude=-1 if exclude_evidence is None else exclude_evidence,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_matches_sql(len(variants)), params)
        rows = cursor.fetchall()
        # It only read: rolling back (to the savepoint, inside a caller's transaction) undoes
        # nothing but the SET LOCAL, which would otherwise last to the end of the caller's.
        transaction.set_rollback(True)
    return [PictureMatch(evidence_id=pk, distance=distance) for pk, distance in rows]
