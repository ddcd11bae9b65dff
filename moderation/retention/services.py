"""Retention's writes: the legal hold, and the deletion of what is due, batch by batch.

A run works in bounded batches, each one short transaction: lock up to RETENTION_BATCH_SIZE
due rows together with their cases (`FOR NO KEY UPDATE … SKIP LOCKED`, so a supervisor
setting a hold on one of those cases waits for the batch, and a batch never waits for anyone),
mark them, and write one audit event for the batch. Contact details are blanked in that
transaction. Evidence bytes live outside the database, so they go in a second step, after the
commit: the row is first marked deleted (from then on no page serves it), then its file is
deleted from storage and its name emptied. Deleting a file that is already gone is no error,
and every run starts by finishing the files of rows marked deleted whose name is still set, so
a run killed at any point leaves nothing that the next run does not finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from moderation.access import can_supervise
from moderation.audit import Actor, audit_record
from moderation.models import Case, ObjectionAttachment
from moderation.retention.selectors import (
    CONTACTS_ERASED,
    EVIDENCE_DELETED,
    OBJECTION_CONTACTS_ERASED,
    OBJECTION_PICTURES_DELETED,
    contacts_cutoff,
    contacts_due,
    evidence_cutoff,
    evidence_due,
    objection_contacts_due,
    objection_pictures_due,
)
from reports.models import Evidence

ACTOR = Actor.system("retention")


class LegalHoldRefused(Exception):
    """A legal hold change that cannot be made; the message is for the person who asked."""


# --- the legal hold --------------------------------------------------------------------------


def _hold_state(case: Case) -> dict[str, Any]:
    return {"legal_hold": case.legal_hold_at is not None, "reason": case.legal_hold_reason}


def case_legal_hold_set(
    *, case_id: int, supervisor: Any, reason: str, ip_address: str | None = None
) -> Case:
    """Hold the case: retention deletes none of its evidence or contact details until a
    supervisor clears the hold. Raises Case.DoesNotExist for an unknown case."""
    return _legal_hold_change(
        case_id=case_id, supervisor=supervisor, reason=reason, hold=True, ip_address=ip_address
    )


def case_legal_hold_clear(
    *, case_id: int, supervisor: Any, reason: str, ip_address: str | None = None
) -> Case:
    """Lift the hold: what is past its retention period goes at the next run."""
    return _legal_hold_change(
        case_id=case_id, supervisor=supervisor, reason=reason, hold=False, ip_address=ip_address
    )


def _legal_hold_change(
    *, case_id: int, supervisor: Any, reason: str, hold: bool, ip_address: str | None
) -> Case:
    if not can_supervise(supervisor):
        raise LegalHoldRefused(_("Only supervisors set or clear a legal hold."))
    reason = reason.strip()
    if not reason:
        raise LegalHoldRefused(_("Give the reason for the legal hold."))
    with transaction.atomic():
        # The row lock also waits for a retention batch that holds this case.
        case = Case.objects.select_for_update().get(pk=case_id)
        held = case.legal_hold_at is not None
        if hold and held:
            raise LegalHoldRefused(_("This case is already under a legal hold."))
        if not hold and not held:
            raise LegalHoldRefused(_("This case is not under a legal hold."))
        before = _hold_state(case)
        if hold:
            case.legal_hold_at = timezone.now()
            case.legal_hold_by = supervisor
            case.legal_hold_reason = reason
        else:
            case.legal_hold_at = None
            case.legal_hold_by = None
            case.legal_hold_reason = ""
        case.save(
            update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason", "updated_at"]
        )
        audit_record(
            actor=Actor.staff(supervisor),
            action="case.legal_hold_set" if hold else "case.legal_hold_cleared",
            subject=case,
            data={"before": before, "after": _hold_state(case), "reason": reason},
            ip_address=ip_address,
        )
    return case


# --- deletion --------------------------------------------------------------------------------


@dataclass
class RetentionResult:
    evidence_deleted: int = 0
    contacts_erased: int = 0
    objection_pictures_deleted: int = 0
    objection_contacts_erased: int = 0
    leftover_files_removed: int = 0  # of rows an interrupted run had marked
    batches: list[int] = field(default_factory=list)  # the batches' audit event numbers


def _locked(queryset: QuerySet, case_path: str, limit: int) -> list:
    """Up to `limit` due rows, locked with their cases; rows someone else holds are skipped."""
    return list(
        queryset.select_related(case_path)
        .select_for_update(of=("self", case_path), skip_locked=True, no_key=True)
        .order_by("pk")[:limit]
    )


@dataclass(frozen=True)
class Batch:
    sequence: int  # its audit event's number
    count: int


def _batch(
    due: QuerySet,
    *,
    case_path: str,
    limit: int,
    erase: dict[str, Any],
    action: str,
    kind: str,
    label: str,
    record: Callable[[list, list[int]], dict[str, Any]],
    files: Callable[..., int] | None = None,
) -> Batch | None:
    """One batch of any kind: lock up to `limit` due rows with their cases, set `erase` on
    them, write the batch's one audit event (`record` says what it lists besides the kind and
    the count), and remove their `files` after the commit. None when nothing unlocked is due."""
    with transaction.atomic():
        rows = _locked(due, case_path, limit)
        if not rows:
            return None
        ids = [row.pk for row in rows]
        due.model.objects.filter(pk__in=ids).update(**erase)
        event = audit_record(
            actor=ACTOR,
            action=action,
            subject_label=label.format(count=len(rows)),
            data={"kind": kind, "count": len(rows), **record(rows, ids)},
        )
        if files is not None:
            transaction.on_commit(lambda: files(ids=ids))
    return Batch(event.sequence, len(rows))


def evidence_delete_batch(*, now: datetime, limit: int) -> Batch | None:
    """Mark one batch of due evidence deleted, audited, and remove its files after the commit.
    None when nothing (that nobody else has locked) is due."""
    return _batch(
        evidence_due(now=now),
        case_path="report__case",
        limit=limit,
        erase={"deleted_at": now},
        action=EVIDENCE_DELETED,
        kind="evidence",
        label="retention: {count} evidence files",
        record=lambda rows, ids: {
            "evidence": ids,
            # The hashes stay in the log: what was held can still be proven, not shown.
            "sha256": [evidence.sha256 for evidence in rows],
            "reports": sorted({evidence.report_id for evidence in rows}),
            "cases": sorted({evidence.report.case_id for evidence in rows}),
            "period_days": settings.RETENTION_EVIDENCE_DAYS,
            "cutoff": evidence_cutoff(now),
        },
        files=evidence_files_remove,
    )


def contacts_erase_batch(*, now: datetime, limit: int) -> Batch | None:
    """Blank one batch of public reporters' contact details (and the keyed hash made from
    them), audited with the reports' ids only. None when nothing unlocked is due."""
    return _batch(
        contacts_due(now=now),
        case_path="case",
        limit=limit,
        erase={
            "reporter_name": "",
            "reporter_email": "",
            "reporter_phone": "",
            "reporter_key": "",
            "contact_deleted_at": now,
        },
        action=CONTACTS_ERASED,
        kind="contacts",
        label="retention: contact details of {count} reports",
        record=lambda rows, ids: {
            "reports": ids,
            "cases": sorted({report.case_id for report in rows}),
            "period_days": settings.RETENTION_REPORTER_CONTACT_DAYS,
            "cutoff": contacts_cutoff(now),
        },
    )


def objection_pictures_delete_batch(*, now: datetime, limit: int) -> Batch | None:
    """Mark one batch of due objection pictures deleted, audited with their hashes, and remove
    their files after the commit. None when nothing unlocked is due."""
    return _batch(
        objection_pictures_due(now=now),
        case_path="objection__case",
        limit=limit,
        erase={"deleted_at": now},
        action=OBJECTION_PICTURES_DELETED,
        kind="objection_pictures",
        label="retention: {count} objection pictures",
        record=lambda rows, ids: {
            "attachments": ids,
            "sha256": [picture.sha256 for picture in rows],
            "objections": sorted({picture.objection_id for picture in rows}),
            "cases": sorted({picture.objection.case_id for picture in rows}),
            "period_days": settings.RETENTION_EVIDENCE_DAYS,
            "cutoff": evidence_cutoff(now),
        },
        files=objection_files_remove,
    )


def objection_contacts_erase_batch(*, now: datetime, limit: int) -> Batch | None:
    """Blank one batch of objecting owners' contact details, audited with the objections' ids
    only. None when nothing unlocked is due."""
    return _batch(
        objection_contacts_due(now=now),
        case_path="case",
        limit=limit,
        erase={
            "contact_name": "",
            "contact_email": "",
            "contact_phone": "",
            "contact_deleted_at": now,
        },
        action=OBJECTION_CONTACTS_ERASED,
        kind="objection_contacts",
        label="retention: contact details of {count} objections",
        record=lambda rows, ids: {
            "objections": ids,
            "cases": sorted({objection.case_id for objection in rows}),
            "period_days": settings.RETENTION_REPORTER_CONTACT_DAYS,
            "cutoff": contacts_cutoff(now),
        },
    )


def evidence_files_remove(*, ids: list[int] | None = None, limit: int = 1000) -> int:
    """Delete from storage the files of evidence marked deleted whose name is still set (those
    `ids`, or up to `limit` of any: what a killed run left). Idempotent. Returns how many."""
    return _files_remove(Evidence, ids=ids, limit=limit)


def objection_files_remove(*, ids: list[int] | None = None, limit: int = 1000) -> int:
    """As evidence_files_remove, for objecting owners' pictures."""
    return _files_remove(ObjectionAttachment, ids=ids, limit=limit)


def _files_remove(model: Any, *, ids: list[int] | None, limit: int) -> int:
    rows = model.objects.filter(deleted_at__isnull=False).exclude(file="")
    if ids is not None:
        rows, limit = rows.filter(pk__in=ids), len(ids)
    storage = model._meta.get_field("file").storage
    removed = 0
    for pk, name in rows.order_by("pk").values_list("pk", "file")[:limit]:
        storage.delete(name)  # a file already gone is no error
        removed += model.objects.filter(pk=pk, file=name).update(file="")
    return removed


def retention_run(*, now: datetime | None = None, batch_size: int | None = None) -> RetentionResult:
    """Delete everything due now, batch after batch, until nothing unlocked is due."""
    now = now or timezone.now()
    limit = batch_size or settings.RETENTION_BATCH_SIZE
    result = RetentionResult()
    while removed := evidence_files_remove():  # what an interrupted run left behind
        result.leftover_files_removed += removed
    while removed := objection_files_remove():
        result.leftover_files_removed += removed
    while batch := evidence_delete_batch(now=now, limit=limit):
        result.batches.append(batch.sequence)
        result.evidence_deleted += batch.count
    while batch := contacts_erase_batch(now=now, limit=limit):
        result.batches.append(batch.sequence)
        result.contacts_erased += batch.count
    while batch := objection_pictures_delete_batch(now=now, limit=limit):
        result.batches.append(batch.sequence)
        result.objection_pictures_deleted += batch.count
    while batch := objection_contacts_erase_batch(now=now, limit=limit):
        result.batches.append(batch.sequence)
        result.objection_contacts_erased += batch.count
    return result
