"""`backup_create`: the dump of an exported snapshot, and the media, audit files and manifest
of that same snapshot, written into one archive under a hidden name and renamed when complete.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, transaction

from config.backups.archive import (
    CHECKPOINTS,
    DUMP,
    FORMAT,
    LEAF_BYTES,
    LEAVES,
    MANIFEST,
    MEDIA,
    add_file,
    fsync_directory,
    media_files,
    whole_notes,
)
from config.backups.errors import BackupError
from config.backups.tools import libpq, pg_tool, server_version, stderr_tail
from moderation import audit
from reports.models import Evidence

# The rows counted into the manifest and compared after a restore.
COUNTED = (
    "auth.User",
    "accounts.Platform",
    "accounts.ChatAccount",
    "reports.SourceOrganisation",
    "reports.Report",
    "reports.Evidence",
    "reports.ImportJob",
    "moderation.Case",
    "moderation.CaseNote",
    "moderation.Decision",
    "moderation.Approval",
    "moderation.TakedownRequest",
    "moderation.DeliveryAttempt",
    "moderation.Export",
    "moderation.AuditEvent",
    "moderation.AuditLeaf",
    "moderation.AuditCheckpoint",
)
NOT_INCLUDED = (
    "the audit signing key (AUDIT_SIGNING_KEY_FILE)",
    "SECRET_KEY and PLATFORM_SECRET_KEYS (make run keeps them under .data/)",
)


def evidence_problems(files: dict[str, str]) -> list[str]:
    """Evidence whose bytes are not among `files` (archive name → SHA-256) or differ from the
    SHA-256 they were stored with; at most 20 named, then how many more."""
    location = Path(getattr(storages["evidence"], "location", ""))  # a FileSystemStorage
    try:
        prefix = f"{MEDIA}{location.relative_to(settings.PRIVATE_MEDIA_ROOT).as_posix()}/"
    except ValueError:
        return [f"the evidence storage {location} is outside PRIVATE_MEDIA_ROOT: not backed up"]
    rows = Evidence.objects.exclude(file="")
    # Retention (moderation/retention) marks a row deleted before it removes the file.
    if any(f.name == "deleted_at" for f in Evidence._meta.get_fields()):
        rows = rows.filter(deleted_at__isnull=True)
    problems = []
    for pk, name, sha256 in rows.values_list("pk", "file", "sha256").iterator(chunk_size=5000):
        held = files.get(prefix + name)
        if held is None:
            problems.append(f"evidence {pk}: {name} is missing")
        elif held != sha256:
            problems.append(f"evidence {pk}: {name} does not have the SHA-256 it was stored with")
    return problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])


def row_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def _saring_version() -> str:
    try:
        release = package_version("saring")
    except PackageNotFoundError:
        release = "unknown"
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return release
    return f"{release} ({commit})"


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]
    seconds: float


def _target(destination: Path) -> Path:
    if destination.is_dir():
        destination = destination / f"saring-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar"
    if destination.exists():
        raise BackupError(f"{destination} already exists; a backup never overwrites a file.")
    if not destination.parent.is_dir():
        raise BackupError(f"There is no directory {destination.parent} to write the backup in.")
    if destination.resolve().is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve()):
        raise BackupError("A backup cannot be written inside PRIVATE_MEDIA_ROOT, which it copies.")
    return destination


def backup_create(*, destination: Path) -> Backup:
    """Write a backup to `destination` (a file name, or a directory to name one in)."""
    started = time.monotonic()
    target = _target(destination)
    dump_tool = pg_tool("pg_dump")
    server, server_major = server_version()
    if dump_tool.major < server_major:
        raise BackupError(
            f"{dump_tool.path} is pg_dump {dump_tool.version}, older than the server "
            f"(PostgreSQL {server}), which it cannot dump: set PG_BIN_DIR to the bin directory "
            f"of PostgreSQL {server_major} or later."
        )
    conninfo, env = libpq()
    hidden = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    partial, dump = Path(f"{hidden}.partial"), Path(f"{hidden}.dump")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            dumped = subprocess.run(
                [str(dump_tool.path), "--format=custom", f"--snapshot={snapshot}",
                 "--no-password", f"--file={dump}", f"--dbname={conninfo}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if dumped.returncode != 0:
                raise BackupError(
                    f"pg_dump failed (exit {dumped.returncode}):\n{stderr_tail(dumped.stderr)}"
                )
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "saring": _saring_version(),
                "database": {
                    "name": connection.settings_dict["NAME"],
                    "server_version": server,
                    "pg_dump_version": dump_tool.version,
                    "pg_dump_major": dump_tool.major,
                },
                "counts": row_counts(),
                "audit": _audit_state(),
                "media_root": str(settings.PRIVATE_MEDIA_ROOT),
                "not_included": list(NOT_INCLUDED),
            }
            _write_archive(partial, dump, manifest)
        os.replace(partial, target)
        fsync_directory(target.parent)
    finally:
        dump.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return Backup(target, manifest, time.monotonic() - started)


def _audit_state() -> dict[str, Any]:
    head, checkpoint = audit.latest_head(), audit.latest_checkpoint()
    return {
        "sealed_size": head.size,
        "sealed_root": head.root.hex(),
        "latest_checkpoint": checkpoint
        and {
            "size": checkpoint.size,
            "root": bytes(checkpoint.root).hex(),
            "signed_at": checkpoint.signed_at.isoformat(),
        },
    }


def _write_archive(partial: Path, dump: Path, manifest: dict[str, Any]) -> None:
    """The dump, the media and the audit files, then the manifest listing them (with the
    evidence check against the snapshot), into a new file only its owner can read."""
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    files = manifest["files"] = []
    with os.fdopen(descriptor, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w") as tar:
            files.append(add_file(tar, DUMP, dump))
            for name, path in media_files(Path(settings.PRIVATE_MEDIA_ROOT)):
                try:
                    files.append(add_file(tar, MEDIA + name, path))
                except FileNotFoundError:
                    continue  # removed since the walk (an export given up on, retention)
            checkpoints = Path(settings.AUDIT_CHECKPOINT_FILE)
            if checkpoints.is_file():
                files.append(add_file(tar, CHECKPOINTS, checkpoints, whole_notes(checkpoints)))
            leaves = Path(settings.AUDIT_LEAF_FILE)
            if leaves.is_file():
                # Only the leaves the snapshot has sealed: the sequencer appends the ones it
                # seals next after the file's own count, which a restored file must not overstate.
                sealed = manifest["audit"]["sealed_size"]
                files.append(add_file(tar, LEAVES, leaves, sealed * LEAF_BYTES))
            manifest["evidence_problems"] = evidence_problems(
                {f["name"]: f["sha256"] for f in files}
            )
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
        raw.flush()
        os.fsync(raw.fileno())
