"""Signed checkpoints of the audit log, kept in three places.

A checkpoint is the tree's size and root and the time, as a c2sp.org/tlog-checkpoint signed
note (the time as a `timestamp <unix seconds>` extension line), signed with Ed25519 by a key
read from `AUDIT_SIGNING_KEY_FILE` — never stored in PostgreSQL, so whoever controls the
database cannot sign a rewritten log. Each one is appended to `AUDIT_CHECKPOINT_FILE`, sent to
the witness (`AUDIT_WITNESS_URL`, another agency's log) with a consistency proof from the last
checkpoint the witness accepted, and recorded in the database with the witness's answer.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from moderation.audit.services import log
from moderation.models import AuditCheckpoint
from verifier import saring_verify as tree

logger = logging.getLogger(__name__)


class SigningKeyMissing(RuntimeError):
    pass


@cache
def _signing_key(path: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise SigningKeyMissing(
            f"No audit signing key at {path}: create one with "
            "`python manage.py audit_key --create` or set AUDIT_SIGNING_KEY_FILE."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing(f"{path} does not hold an Ed25519 private key.")
    return key


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.AUDIT_SIGNING_KEY_FILE)


def create_signing_key(path: str | Path) -> None:
    """Write a new Ed25519 key readable by its owner only; refuse to overwrite one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def public_key_bytes() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def verifier_key() -> str:
    """What anyone needs to check our checkpoints: name+keyid+base64 (signed-note form).
    From AUDIT_VERIFIER_KEY where set (processes that must not hold the signing key), else
    derived from the signing key."""
    if settings.AUDIT_VERIFIER_KEY:
        return settings.AUDIT_VERIFIER_KEY
    return tree.verifier_key(settings.AUDIT_LOG_ORIGIN, public_key_bytes())


def log_verify_note(checkpoint_note: str | None) -> dict[str, Any]:
    """What the verification job runs: the whole log recomputed (seconds per million leaves),
    against a kept checkpoint when one was given; the report as a plain dict for the job's
    result."""
    checkpoint = tree.open_checkpoint(checkpoint_note, verifier_key()) if checkpoint_note else None
    return asdict(log.log_verify(checkpoint))


def sign(size: int, root: bytes, at: int) -> str:
    """The signed note for a tree of `size` leaves with `root`, at unix time `at`."""
    origin = settings.AUDIT_LOG_ORIGIN
    body = tree.checkpoint_body(origin, size, root, at)
    signature = signing_key().sign(body.encode())
    raw = tree.key_id(origin, public_key_bytes()) + signature
    return f"{body}\n\u2014 {origin} {base64.b64encode(raw).decode()}\n"


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-size").first()


def checkpoint_if_due(*, force: bool = False) -> AuditCheckpoint | None:
    """Sign the latest sealed tree if it grew and the last checkpoint is old enough."""
    head = log.latest_head()
    last = latest_checkpoint()
    if head.size == 0 or (last is not None and last.size >= head.size):
        return None
    age = (timezone.now() - last.signed_at).total_seconds() if last is not None else None
    if not force and age is not None and age < settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS:
        return None
    now = timezone.now()
    note = sign(head.size, head.root, int(now.timestamp()))
    _append_to_file(note)
    answer = send_to_witness(note, head.size)
    return AuditCheckpoint.objects.create(
        size=head.size, root=head.root, signed_at=now, note=note, witness=answer[:200]
    )


def _append_to_file(note: str) -> None:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(note + "\n")  # an empty line between checkpoints
        handle.flush()
        os.fsync(handle.fileno())


def _witnessed_size() -> int:
    """The size of the last checkpoint the witness accepted (0: none yet)."""
    row = (
        AuditCheckpoint.objects.filter(witness__startswith="accepted")
        .order_by("-size")
        .values_list("size", flat=True)
        .first()
    )
    return row or 0


def send_to_witness(note: str, size: int) -> str:
    """POST the checkpoint and a consistency proof from what the witness has seen; return
    what it answered ("accepted…", "refused…", "unreachable…" or "no witness")."""
    url = settings.AUDIT_WITNESS_URL
    if not url:
        return "no witness configured"
    old = _witnessed_size()
    for _ in range(2):  # once more if the witness knows another size than we thought
        proof = log.consistency_proof(old, size) if old else []
        body = f"old {old}\n" + "".join(f"{base64.b64encode(p).decode()}\n" for p in proof)
        try:
            response = requests.post(
                f"{url}/add-checkpoint",
                data=(body + "\n" + note).encode(),
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=settings.AUDIT_WITNESS_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            logger.warning("audit witness unreachable: %s", exc)
            return f"unreachable: {type(exc).__name__}"
        if response.status_code == 409 and response.text.strip().isdigit():
            known = int(response.text.strip())
            if known != old and known <= size:
                old = known
                continue
        if response.status_code == 200:
            return f"accepted: {response.text.strip()[:180]}"
        logger.warning("audit witness refused checkpoint %s: %s", size, response.status_code)
        return f"refused: HTTP {response.status_code} {response.text.strip()[:150]}"
    return "refused: the witness and the log disagree on what it has seen"


def run_sequencer(*, once: bool = False, stop: Callable[[], bool] = lambda: False) -> None:
    """Seal and sign until `stop()`: seal whenever there are events, sign while it grows."""
    signing_key()  # no key, no sequencer: say so at once rather than at the first checkpoint
    while not stop():
        sealed = 0
        try:
            sealed = log.seal_pending()
            checkpoint_if_due()
        except (DatabaseError, OSError, LookupError):
            # PostgreSQL restarting, a full disk: nothing was half-written (each step is one
            # transaction, the files are appended after it); try again on the next round.
            logger.exception("audit sequencer: this round failed; trying again")
            close_old_connections()
            connection.close()
            time.sleep(1.0)
        if once:
            return
        if sealed < log.SEAL_BATCH:
            time.sleep(settings.AUDIT_SEAL_INTERVAL_SECONDS)
