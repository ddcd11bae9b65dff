"""Picture hashes (issue 17, README "Picture hashes"): evidence pictures uploaded through the
API are hashed with PDQ by the worker's task (run here in this process) and linked to every
stored picture within PDQ_MATCH_DISTANCE — resized, recompressed, captioned, mirrored and
rotated copies alike — while an unrelated or featureless picture is not; hashes outlive the
bytes retention deletes; the matching query finds exactly what is within 31 bits, through the
chunk indexes."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from devtools.pictures import KINDS, jpeg, photo, variant
from moderation.models import Case
from moderation.retention import retention_run
from reports.models import (
    Evidence,
    PictureHash,
    PictureLink,
    PictureVariants,
    pdq_chunk_expression,
)
from reports.pdq import (
    CHUNK_BITS,
    CHUNKS,
    chunk_neighbourhood,
    chunks,
    hamming,
    pdq_compute,
)
from reports.selectors import picture_matches
from reports.services.pictures import HASH_TASK, picture_hash_store
from reports.tasks import hash_evidence_picture, pictures_hash_pending_sweep
from tests.support import ROOT
from tests.support.env import production_env
from tests.support.factories import ReportFactory
from tests.support.intake import report_body

pytestmark = pytest.mark.django_db

ORIGINAL_SEED, UNRELATED_SEED = 1701, 1702


def uploaded(token: str, account: str, picture: bytes) -> Evidence:
    """A report on `account` (a MiChat handle) with `picture` as its evidence, both sent
    through the intake API as a source organisation sends them."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = report_body(f"REF-{account}-{Evidence.objects.count()}", account={"identifier": account})
    created = Client().post(
        "/api/v1/reports/", json.dumps(body), content_type="application/json", **auth
    )
    assert created.status_code == 201, created.content
    response = Client().post(
        f"/api/v1/reports/{created.json()['id']}/evidence/",
        {"file": SimpleUploadedFile("bukti.jpg", picture, "image/jpeg")},
        **auth,
    )
    assert response.status_code == 201, response.content
    return Evidence.objects.select_related("report").get(pk=response.json()["id"])


def link_between(a: Evidence, b: Evidence) -> PictureLink | None:
    low, high = sorted((a.pk, b.pk))
    return PictureLink.objects.filter(low_id=low, high_id=high).first()


@pytest.fixture
def original(ministry_token) -> Evidence:
    _, token = ministry_token
    evidence = uploaded(token, "bella.bo", jpeg(photo(ORIGINAL_SEED)))
    hash_evidence_picture(evidence.pk)
    return evidence


@pytest.mark.parametrize("kind", KINDS)
def test_an_altered_copy_on_another_account_links_to_the_original(ministry_token, original, kind):
    _, token = ministry_token
    copy = uploaded(token, f"bella.{kind}", jpeg(variant(photo(ORIGINAL_SEED), kind)))

    assert hash_evidence_picture(copy.pk) == 1
    link = link_between(original, copy)
    assert link is not None and link.distance <= settings.PDQ_MATCH_DISTANCE
    assert (link.low_id, link.high_id) == (original.pk, copy.pk)
    assert (link.low_account_id, link.high_account_id) == (
        original.report.account_id,
        copy.report.account_id,
    )
    assert original.report.account_id != copy.report.account_id


def test_an_unrelated_picture_links_to_nothing(ministry_token, original):
    _, token = ministry_token
    other = uploaded(token, "sinta.vip", jpeg(photo(UNRELATED_SEED)))

    assert hash_evidence_picture(other.pk) == 0
    assert PictureHash.objects.filter(evidence=other).exists()
    assert not PictureLink.objects.exists()


def test_a_featureless_picture_is_hashed_and_kept_but_never_linked(ministry_token):
    _, token = ministry_token
    flat = jpeg(Image.new("RGB", (640, 480), (128, 128, 128)))
    first = uploaded(token, "flat.one", flat)
    second = uploaded(token, "flat.two", flat)  # the very same picture, on another account

    for evidence in (first, second):
        assert hash_evidence_picture(evidence.pk) == 0
    hashes = PictureHash.objects.filter(evidence__in=[first, second])
    assert hashes.count() == 2
    assert all(h.quality < settings.PDQ_QUALITY_MIN for h in hashes)
    assert PictureVariants.objects.filter(evidence__in=[first, second]).count() == 2
    assert not PictureLink.objects.exists()


def test_hashing_a_picture_twice_changes_nothing(ministry_token, original):
    _, token = ministry_token
    copy = uploaded(token, "bella.again", jpeg(variant(photo(ORIGINAL_SEED), "resized")))
    assert hash_evidence_picture(copy.pk) == 1
    stored = PictureHash.objects.get(evidence=copy)

    again = picture_hash_store(copy.pk)
    assert again.skipped == "already_hashed" and again.links == 0
    assert PictureHash.objects.get(evidence=copy).computed_at == stored.computed_at
    assert PictureLink.objects.count() == 1
    assert hash_evidence_picture(original.pk) == 0


def test_the_stored_variants_are_the_hash_of_the_mirrored_and_rotated_picture(original):
    stored = PictureHash.objects.get(evidence=original)
    words = PictureVariants.objects.get(evidence=original).words
    picture = photo(ORIGINAL_SEED)
    mirrored = pdq_compute(Image.open(io.BytesIO(jpeg(variant(picture, "mirrored")))))
    rotated = pdq_compute(Image.open(io.BytesIO(jpeg(variant(picture, "rotated")))))
    variants = [tuple(words[i : i + 4]) for i in range(0, 28, 4)]
    original_words = (stored.h0, stored.h1, stored.h2, stored.h3)

    assert len(words) == 28
    assert hamming(mirrored.original, original_words) > 64  # far as is ...
    assert min(hamming(mirrored.original, v) for v in variants) <= 8  # ... near a variant
    assert min(hamming(rotated.original, v) for v in variants) <= 8


def test_a_picture_whose_bytes_retention_deleted_keeps_its_hash_and_still_links(
    ministry_token, original, django_capture_on_commit_callbacks
):
    Case.objects.filter(pk=original.report.case_id).update(
        status=Case.Status.DISMISSED, closed_at=timezone.now()
    )
    later = timezone.now() + timedelta(days=settings.RETENTION_EVIDENCE_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_run(now=later).evidence_deleted == 1
    original.refresh_from_db()
    assert original.deleted_at is not None and not original.file
    assert PictureHash.objects.filter(evidence=original).exists()
    assert picture_hash_store(original.pk).skipped == "deleted"

    _, token = ministry_token
    copy = uploaded(token, "bella.returns", jpeg(variant(photo(ORIGINAL_SEED), "text")))
    assert hash_evidence_picture(copy.pk) == 1
    assert link_between(original, copy) is not None


def test_the_backfill_command_hashes_and_links_existing_evidence(ministry_token):
    _, token = ministry_token
    picture = photo(ORIGINAL_SEED)
    evidence = [
        uploaded(token, "old.one", jpeg(picture)),
        uploaded(token, "old.two", jpeg(variant(picture, "mirrored"))),
        uploaded(token, "old.three", jpeg(photo(UNRELATED_SEED))),
    ]
    assert not PictureHash.objects.exists()  # uploads queue the task on commit, not run here

    out = io.StringIO()
    call_command("hash_pictures", batch=2, stdout=out)

    assert PictureHash.objects.filter(evidence__in=evidence).count() == 3
    assert link_between(evidence[0], evidence[1]) is not None
    assert PictureLink.objects.count() == 1
    text = out.getvalue()
    assert "3 evidence pictures to hash." in text
    assert "hashed 2 of 3" in text and "hashed 3 of 3, 1 links" in text
    call_command("hash_pictures", stdout=(again := io.StringIO()))
    assert "0 evidence pictures to hash." in again.getvalue()


def test_beat_hashes_pictures_left_without_a_hash(ministry_token):
    _, token = ministry_token
    lost = uploaded(token, "lost.task", jpeg(photo(ORIGINAL_SEED)))

    assert pictures_hash_pending_sweep() == 1
    assert PictureHash.objects.filter(evidence=lost).exists()
    assert pictures_hash_pending_sweep() == 0


def test_an_upload_queues_its_hashing_on_the_broker_once_committed(
    ministry_token, django_capture_on_commit_callbacks
):
    _, token = ministry_token
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = broker.lrange("celery", 0, -1)
    with django_capture_on_commit_callbacks(execute=True):
        evidence = uploaded(token, "queued.one", jpeg(photo(ORIGINAL_SEED)))
        assert broker.llen("celery") == len(waiting)  # nothing before the commit
    queued = [message for message in broker.lrange("celery", 0, -1) if message not in waiting]
    for message in queued:
        broker.lrem("celery", 1, message)

    tasks = []
    for message in map(json.loads, queued):
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    assert (HASH_TASK, [evidence.pk]) in tasks


def test_a_match_distance_above_31_is_refused_at_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(PDQ_MATCH_DISTANCE="32"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PDQ_MATCH_DISTANCE=32: at most 31" in result.stderr


# --- The matching query, on stored hashes made to measure -----------------------------------


def stored_hashes(words: list[tuple[int, int, int, int]], quality: int = 90) -> list[int]:
    """PictureHash rows with these words (on evidence rows of one report); their ids."""
    report = ReportFactory()
    evidence = Evidence.objects.bulk_create(
        Evidence(report=report, file="", content_type="image/jpeg", size=1, sha256=f"{n:064x}")
        for n in range(len(words))
    )
    PictureHash.objects.bulk_create(
        PictureHash(evidence=e, h0=w[0], h1=w[1], h2=w[2], h3=w[3], quality=quality)
        for e, w in zip(evidence, words, strict=True)
    )
    return [e.pk for e in evidence]


def random_words(rng, count: int) -> list[tuple[int, int, int, int]]:
    return [tuple(int(w) for w in row) for row in rng.integers(-(2**63), 2**63 - 1, (count, 4))]


def flipped(words, bits: list[int]) -> tuple[int, int, int, int]:
    """`words` with these bits flipped, bit b being bit b % 16 of chunk b // 16."""
    out = [w & (2**64 - 1) for w in words]
    for bit in bits:
        chunk, offset = divmod(bit, CHUNK_BITS)
        out[chunk // 4] ^= 1 << (CHUNK_BITS * (chunk % 4) + offset)
    return tuple(w - 2**64 if w >= 2**63 else w for w in out)  # type: ignore[return-value]


def test_chunks_are_the_same_numbers_in_python_and_in_the_indexed_expression():
    rng = np.random.default_rng(3)
    words = random_words(rng, 20)
    ids = stored_hashes(words)
    for k in range(CHUNKS):
        in_sql = dict(
            PictureHash.objects.filter(evidence_id__in=ids)
            .annotate(chunk=pdq_chunk_expression(k))
            .values_list("evidence_id", "chunk")
        )
        assert [in_sql[pk] for pk in ids] == [chunks(w)[k] for w in words]
    assert len(set(chunk_neighbourhood(12345))) == 17


def test_matching_finds_everything_within_31_bits_and_nothing_beyond():
    """Distance 31 spread as the index likes least (two bits in fifteen chunks, one in the
    last) is found; 32 spread over every chunk (two bits each) is not, nor is a low-quality
    hash; the distances reported are the Hamming distances."""
    rng = np.random.default_rng(5)
    query = random_words(rng, 1)[0]
    spread = [16 * k + b for k in range(CHUNKS) for b in (0, 9)]
    near = {
        "exact": query,
        "d12": flipped(query, [int(b) for b in rng.choice(256, 12, replace=False)]),
        "d31": flipped(query, spread[:-1]),
        "d32": flipped(query, spread),
    }
    ids = dict(zip(near, stored_hashes(list(near.values())), strict=True))
    low_quality = stored_hashes([query], quality=settings.PDQ_QUALITY_MIN - 1)[0]
    stored_hashes(random_words(rng, 500))

    found = {m.evidence_id: m.distance for m in picture_matches([query], max_distance=31)}

    assert found == {ids["exact"]: 0, ids["d12"]: 12, ids["d31"]: 31}
    assert low_quality not in found
    assert all(hamming(query, near[name]) == found[ids[name]] for name in ("d12", "d31"))
    with pytest.raises(ValueError, match="up to 31 bits"):
        picture_matches([query], max_distance=32)


def test_the_matching_query_goes_through_the_sixteen_chunk_indexes():
    """On a few thousand rows the planner rightly prefers a sequential scan (bench/pictures.py
    measures the two); with that ruled out, the plan must read every chunk index — the query
    uses the very expression the indexes are built on."""
    rng = np.random.default_rng(7)
    stored_hashes(random_words(rng, 5000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_picturehash")
    query = pdq_compute(Image.open(io.BytesIO(jpeg(photo(ORIGINAL_SEED)))))
    captured = []

    def capture(execute, sql, params, many, context):
        if "bit_count" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        picture_matches(query.variants, max_distance=31)
    sql, params = captured[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for k in range(CHUNKS):
        assert f"Bitmap Index Scan on picturehash_chunk_{k:02d}" in plan, plan
