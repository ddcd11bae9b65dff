"""Perceptual hashes of evidence pictures and the links between them (issue 17; README
"Picture hashes").

A picture is hashed by a Celery worker after its upload commits (`picture_hash_enqueue`,
queued by evidence_store; the task is reports.hash_evidence_picture), never in the request.
Beat's sweeper (`pictures_hash_pending`) and `manage.py hash_pictures` hash whatever was left
without a hash: a lost task, evidence stored before hashing existed.

Hashing stores the picture's PDQ hash (PictureHash) and its seven other dihedral variants
(PictureVariants). A hash of quality PDQ_QUALITY_MIN or more is then matched against every
stored hash of that quality (reports.selectors.picture_matches) and each picture within
PDQ_MATCH_DISTANCE becomes a PictureLink — pictures of the same account included: they are
harmless, and the rings and the case page skip them. The accounts on both ends are then checked
for "returning" (moderation.cases.cases_mark_returning) and the rings rebuilt soon after the
commit (moderation.rings.rings_rebuild_soon).

These rows are derived data, recomputable from the pictures (while their bytes exist): no
audit event, a log line. Hashes outlive the bytes: retention deletes the file, never the hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from PIL import Image, UnidentifiedImageError

from moderation.cases import cases_mark_returning
from moderation.rings import rings_rebuild_soon
from reports.models import (
    INLINE_IMAGE_TYPES,
    Evidence,
    PictureHash,
    PictureLink,
    PictureVariants,
)
from reports.pdq import PdqResult, pdq_compute
from reports.selectors import picture_matches

logger = logging.getLogger("saring.pictures")

HASH_TASK = "reports.hash_evidence_picture"
# Any fixed 64-bit number. Linking takes it for its transaction, so two workers hashing two
# copies of one picture at once cannot both miss the other (each matching before the other's
# hash is committed); the decoding and hashing happen before, outside it.
PICTURE_LINK_LOCK = 0x5A52_5044_514C


@dataclass(frozen=True)
class PictureHashed:
    """What hashing one evidence picture did. `skipped` says why nothing was stored:
    "missing" (no such evidence), "not_a_picture", "deleted" (retention took the bytes),
    "already_hashed" or "unreadable" (the bytes could not be read or decoded; logged)."""

    evidence_id: int
    quality: int | None = None
    links: int = 0
    skipped: str = ""


def pictures_pending() -> QuerySet[Evidence]:
    """Evidence pictures whose bytes are there and that have no hash yet."""
    return Evidence.objects.filter(
        content_type__in=INLINE_IMAGE_TYPES, deleted_at__isnull=True, picture_hash__isnull=True
    ).exclude(file="")


def picture_hash_store(evidence_id: int) -> PictureHashed:
    """Hash one evidence picture, store its hash and variants, and link it to every stored
    picture within PDQ_MATCH_DISTANCE (when its quality is PDQ_QUALITY_MIN or more).
    Idempotent: a picture already hashed is left as it is."""
    evidence = Evidence.objects.select_related("report").filter(pk=evidence_id).first()
    skipped = _not_to_hash(evidence)
    if skipped:
        return PictureHashed(evidence_id=evidence_id, skipped=skipped)
    assert evidence is not None
    try:
        with evidence.file.open("rb") as stored, Image.open(stored) as image:
            result = pdq_compute(image)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        logger.warning("could not read evidence picture %s to hash it", evidence_id, exc_info=True)
        return PictureHashed(evidence_id=evidence_id, skipped="unreadable")
    return _store(evidence, result)


def _not_to_hash(evidence: Evidence | None) -> str:
    if evidence is None:
        return "missing"
    if evidence.content_type not in INLINE_IMAGE_TYPES:
        return "not_a_picture"
    if evidence.deleted_at is not None or not evidence.file:
        return "deleted"
    if PictureHash.objects.filter(evidence_id=evidence.pk).exists():
        return "already_hashed"
    return ""


def _store(evidence: Evidence, result: PdqResult) -> PictureHashed:
    account_id = evidence.report.account_id
    h0, h1, h2, h3 = result.original
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PICTURE_LINK_LOCK])
        # Checked again under the lock: a second worker on the same picture stops here.
        if PictureHash.objects.filter(evidence_id=evidence.pk).exists():
            return PictureHashed(evidence_id=evidence.pk, skipped="already_hashed")
        matches = []
        if result.quality >= settings.PDQ_QUALITY_MIN:
            matches = picture_matches(
                result.variants,
                max_distance=settings.PDQ_MATCH_DISTANCE,
                min_quality=settings.PDQ_QUALITY_MIN,
                exclude_evidence=evidence.pk,
            )
        PictureHash.objects.create(
            evidence=evidence, h0=h0, h1=h1, h2=h2, h3=h3, quality=result.quality
        )
        PictureVariants.objects.create(evidence=evidence, words=result.others_flat)
        accounts = dict(
            Evidence.objects.filter(pk__in=[m.evidence_id for m in matches]).values_list(
                "pk", "report__account_id"
            )
        )
        links = []
        for match in matches:
            low, high = sorted((evidence.pk, match.evidence_id))
            links.append(
                PictureLink(
                    low_id=low,
                    high_id=high,
                    low_account_id=account_id if low == evidence.pk else accounts[low],
                    high_account_id=account_id if high == evidence.pk else accounts[high],
                    distance=match.distance,
                )
            )
        PictureLink.objects.bulk_create(links, ignore_conflicts=True)
        if links:
            cases_mark_returning(account_ids=sorted({account_id, *accounts.values()}))
            rings_rebuild_soon()
    logger.info(
        "picture hashed: evidence %s, quality %s, %s links",
        evidence.pk,
        result.quality,
        len(links),
    )
    return PictureHashed(evidence_id=evidence.pk, quality=result.quality, links=len(links))


def pictures_hash_pending(
    *,
    limit: int,
    seconds: float | None = None,
    after: int = 0,
    progress: Callable[[PictureHashed], None] | None = None,
) -> list[PictureHashed]:
    """Hash up to `limit` pictures that have no hash yet, oldest first from id `after`, for at
    most `seconds` (beat's sweeper: a batch, within its minute). A picture that cannot be read
    is logged and passed over, so it never holds up the ones after it."""
    started = time.monotonic()
    done: list[PictureHashed] = []
    hashed = 0
    while hashed < limit:
        ids = list(
            pictures_pending()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: limit - hashed]
        )
        if not ids:
            break
        for pk in ids:
            outcome = picture_hash_store(pk)
            done.append(outcome)
            hashed += not outcome.skipped
            if progress is not None:
                progress(outcome)
            if seconds is not None and time.monotonic() - started > seconds:
                return done
        after = ids[-1]
    return done


def picture_hash_enqueue(evidence_ids: Iterable[int]) -> bool:
    """Queue the hashing of these evidence pictures (call it on commit). A broker outage is
    logged, never raised: beat's sweeper hashes what was not queued."""
    from config.celery import app

    try:
        with app.pool.acquire(block=True, timeout=2) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0.1, timeout=2)
            for evidence_id in evidence_ids:
                app.send_task(HASH_TASK, args=[evidence_id], retry=False, connection=broker)
    except Exception:  # noqa: BLE001 - any broker failure: the sweeper picks them up
        logger.warning("could not queue the hashing of evidence pictures", exc_info=True)
        return False
    return True
