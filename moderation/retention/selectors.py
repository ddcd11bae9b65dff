"""What retention deletes and what it has deleted.

Due: the evidence (bytes) and public reporters' contact details of cases in a final state
(dismissed, or closed once their takedown request ended) for longer than the period, and not
under a legal hold; likewise an objecting owner's pictures and contact details, counted from
the objection's decision (an undecided objection keeps them), unless its case is held.
Deleted: the audit trail's retention events, one per batch, which are the record of every
deletion (the auditors' page reads them, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from moderation.keyset import cursor_decode, cursor_encode
from moderation.models import AuditEvent, Case, Objection, ObjectionAttachment
from reports.models import Evidence, Report, SourceKind

EVIDENCE_DELETED = "retention.evidence_deleted"
CONTACTS_ERASED = "retention.contacts_erased"
OBJECTION_PICTURES_DELETED = "retention.objection_pictures_deleted"
OBJECTION_CONTACTS_ERASED = "retention.objection_contacts_erased"
BATCH_ACTIONS = (
    EVIDENCE_DELETED,
    CONTACTS_ERASED,
    OBJECTION_PICTURES_DELETED,
    OBJECTION_CONTACTS_ERASED,
)
PAGE_SIZE = 50


def evidence_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.RETENTION_EVIDENCE_DAYS)


def contacts_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.RETENTION_REPORTER_CONTACT_DAYS)


def _case_due(prefix: str, cutoff: datetime) -> Q:
    """Final before `cutoff` and not held: the one rule both kinds of deletion share."""
    return Q(
        **{
            f"{prefix}status__in": Case.FINAL_STATUSES,
            f"{prefix}closed_at__lt": cutoff,
            f"{prefix}legal_hold_at__isnull": True,
        }
    )


def evidence_due(*, now: datetime) -> QuerySet[Evidence]:
    """Evidence whose bytes are due for deletion (the rows stay)."""
    return Evidence.objects.filter(
        _case_due("report__case__", evidence_cutoff(now)), deleted_at__isnull=True
    )


def contacts_due(*, now: datetime) -> QuerySet[Report]:
    """Public reports that still hold contact details (or the keyed hash derived from them)
    and are due for erasure."""
    return Report.objects.filter(
        _case_due("case__", contacts_cutoff(now)),
        source_kind=SourceKind.PUBLIC,
        contact_deleted_at__isnull=True,
    ).filter(
        ~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone="") | ~Q(reporter_key="")
    )


def _objection_due(prefix: str, cutoff: datetime) -> Q:
    """Decided before `cutoff` and its case not held: an objection's own clock starts at its
    decision (it arrives after the case closed); one undecided keeps everything."""
    return Q(
        **{
            f"{prefix}status__in": (Objection.Status.UPHELD, Objection.Status.GRANTED),
            f"{prefix}decided_at__lt": cutoff,
            f"{prefix}case__legal_hold_at__isnull": True,
        }
    )


def objection_pictures_due(*, now: datetime) -> QuerySet[ObjectionAttachment]:
    """Objecting owners' pictures whose bytes are due for deletion (the rows stay)."""
    return ObjectionAttachment.objects.filter(
        _objection_due("objection__", evidence_cutoff(now)), deleted_at__isnull=True
    )


def objection_contacts_due(*, now: datetime) -> QuerySet[Objection]:
    """Objections that still hold the owner's contact details and are due for erasure."""
    return Objection.objects.filter(
        _objection_due("", contacts_cutoff(now)), contact_deleted_at__isnull=True
    ).filter(~Q(contact_name="") | ~Q(contact_email="") | ~Q(contact_phone=""))


@dataclass(frozen=True)
class RetentionDue:
    """What a run would delete now (the command's --dry-run)."""

    now: datetime
    evidence: Sequence[Mapping[str, Any]]  # {"id", "sha256", "case_id", "closed_at"}
    contacts: Sequence[Mapping[str, Any]]  # {"id", "case_id", "closed_at"}
    objection_pictures: Sequence[Mapping[str, Any]]  # {"id", "sha256", "objection_id", …}
    objection_contacts: Sequence[Mapping[str, Any]]  # {"id", "case_id", "decided_at"}


def retention_due(*, now: datetime | None = None, limit: int = 10_000) -> RetentionDue:
    now = now or timezone.now()
    evidence = list(
        evidence_due(now=now)
        .order_by("pk")
        .values(
            "id", "sha256", case_id=F("report__case_id"), closed_at=F("report__case__closed_at")
        )[:limit]
    )
    contacts = list(
        contacts_due(now=now)
        .order_by("pk")
        .values("id", "case_id", closed_at=F("case__closed_at"))[:limit]
    )
    objection_pictures = list(
        objection_pictures_due(now=now)
        .order_by("pk")
        .values(
            "id",
            "sha256",
            "objection_id",
            case_id=F("objection__case_id"),
            decided_at=F("objection__decided_at"),
        )[:limit]
    )
    objection_contacts = list(
        objection_contacts_due(now=now).order_by("pk").values("id", "case_id", "decided_at")[:limit]
    )
    return RetentionDue(
        now=now,
        evidence=evidence,
        contacts=contacts,
        objection_pictures=objection_pictures,
        objection_contacts=objection_contacts,
    )


# --- the record of what was deleted ----------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[AuditEvent]
    next_cursor: str | None


def retention_batches_page(*, cursor: str = "") -> Page:
    """The deletion batches, newest first, by keyset on the event number; BadCursor for a
    cursor this list did not write."""
    queryset = AuditEvent.objects.filter(action__in=BATCH_ACTIONS).order_by("-sequence")
    if cursor:
        (sequence,) = cursor_decode(cursor, (int,))
        queryset = queryset.filter(sequence__lt=sequence)
    rows = list(queryset[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, cursor_encode(rows[-1].sequence) if more else None)


def retention_batch(*, sequence: int) -> AuditEvent | None:
    return AuditEvent.objects.filter(action__in=BATCH_ACTIONS, sequence=sequence).first()
