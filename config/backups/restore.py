"""`backup_restore`: a checked archive into the default database (one transaction) and
PRIVATE_MEDIA_ROOT, refusing data already there unless forced, then the counts compared."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from config.backups.archive import (
    CHECKPOINTS,
    CHUNK,
    DUMP,
    LEAVES,
    MEDIA,
    archive_open,
    archive_verify,
    extract_member,
    file_sha256,
)
from config.backups.create import COUNTED, evidence_problems, row_counts
from config.backups.errors import BackupError
from config.backups.tools import libpq, pg_tool, server_version, stderr_tail
from config.dbroles import grant_runtime_role
from moderation.models import APPEND_ONLY_MODELS

Say = Callable[[str], None]


@dataclass
class Restored:
    manifest: dict[str, Any]
    counts: list[tuple[str, int, int]]  # (model, in the backup, restored)
    files: int = 0
    moved_aside: list[str] = field(default_factory=list)
    evidence_problems: list[str] = field(default_factory=list)

    @property
    def counts_match(self) -> bool:
        return all(expected == got for _, expected, got in self.counts)


def _file_targets(manifest: dict[str, Any]) -> list[tuple[dict[str, Any], Path]]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    named = {
        CHECKPOINTS: Path(settings.AUDIT_CHECKPOINT_FILE),
        LEAVES: Path(settings.AUDIT_LEAF_FILE),
    }
    return [
        (entry, named.get(entry["name"]) or root / entry["name"].removeprefix(MEDIA))
        for entry in manifest["files"]
        if entry["name"] != DUMP
    ]


def restore_target_state() -> list[str]:
    """What is already where a restore writes (empty: nothing)."""
    found = []
    tables = connection.introspection.table_names()
    if tables:
        migrations = " (django_migrations among them)" if "django_migrations" in tables else ""
        found.append(
            f"the database {connection.settings_dict['NAME']} has {len(tables)} tables{migrations}"
        )
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    if any(names for _, _, names in os.walk(root)):
        found.append(f"PRIVATE_MEDIA_ROOT ({root}) holds files")
    for path in (settings.AUDIT_CHECKPOINT_FILE, settings.AUDIT_LEAF_FILE):
        if Path(path).is_file() and not Path(path).is_relative_to(root):
            found.append(f"{path} exists")
    return found


def _load_dump(dump: Path, *, clean: bool, server_major: int) -> None:
    """pg_restore's SQL through psql in one transaction that commits only if pg_restore read
    the whole archive and psql ran every statement. Not pg_restore straight into the server:
    a newer pg_restore sets `transaction_timeout`, which servers before 17 refuse."""
    restore_tool = pg_tool("pg_restore")
    psql = pg_tool("psql", beside=restore_tool)
    conninfo, env = libpq()
    producer_args = [str(restore_tool.path), "--no-owner", "--no-privileges", "--file=-", str(dump)]
    if clean:
        producer_args[1:1] = ["--clean", "--if-exists"]
    drop = b"SET transaction_timeout = 0;\n" if server_major < 17 else None
    with tempfile.TemporaryFile() as producer_errors, tempfile.TemporaryFile() as psql_errors:
        consumer = subprocess.Popen(
            [str(psql.path), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
             f"--dbname={conninfo}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env,
        )  # fmt: skip
        producer = subprocess.Popen(
            producer_args, stdout=subprocess.PIPE, stderr=producer_errors, env=env
        )
        assert consumer.stdin is not None and producer.stdout is not None
        try:
            consumer.stdin.write(b"BEGIN;\n")
            for _ in range(100):  # the preamble: session settings only
                line = producer.stdout.readline()
                if line != drop:
                    consumer.stdin.write(line)
            shutil.copyfileobj(producer.stdout, consumer.stdin, CHUNK)
            if producer.wait() == 0:
                consumer.stdin.write(b"COMMIT;\n")
            consumer.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error; its message says which
        finally:
            if producer.poll() is None:
                producer.kill()
            producer.wait()
            with contextlib.suppress(BrokenPipeError):
                consumer.stdin.close()
            consumer.wait()
        for process, errors, name in (
            (producer, producer_errors, "pg_restore"),
            (consumer, psql_errors, "psql"),
        ):
            if process.returncode != 0:
                errors.seek(0)
                raise BackupError(
                    f"{name} failed (exit {process.returncode}); the database was left as it "
                    f"was (one transaction):\n{stderr_tail(errors.read())}"
                )


def backup_restore(*, archive: Path, force: bool, say: Say) -> Restored:
    """Restore `archive` into the default database and PRIVATE_MEDIA_ROOT; see the package doc
    (config/backups/__init__.py)."""
    tar, manifest = archive_open(archive)
    with tar:
        say(f"Checking {len(manifest.get('files', []))} files against the manifest …")
        checked = archive_verify(tar, manifest)
        say(f"  all match ({checked / 1e6:,.1f} MB). Backup made {manifest.get('created_at')}.")
        restore_tool = pg_tool("pg_restore")
        if restore_tool.major < manifest["database"]["pg_dump_major"]:
            raise BackupError(
                f"{restore_tool.path} is pg_restore {restore_tool.version}; this backup was "
                f"written by pg_dump {manifest['database']['pg_dump_version']}, which it cannot "
                "read. Set PG_BIN_DIR to a newer PostgreSQL's bin directory."
            )
        _, server_major = server_version()
        occupied = restore_target_state()
        if occupied and not force:
            raise BackupError(
                "Refusing to restore over existing data: " + "; ".join(occupied)
                + ". Nothing was changed. Restore into an empty database and an empty "
                "PRIVATE_MEDIA_ROOT, or give --force to replace what the backup holds."
            )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="saring-restore-") as scratch:
            dump = Path(scratch) / DUMP
            extract_member(tar, next(f for f in manifest["files"] if f["name"] == DUMP), dump)
            say("Restoring the database (one transaction) …")
            _load_dump(dump, clean=bool(occupied), server_major=server_major)
        if settings.DATABASE_RUNTIME_ROLE:
            with connection.cursor() as cursor:
                tables = [model._meta.db_table for model in APPEND_ONLY_MODELS]
                grant_runtime_role(cursor, settings.DATABASE_RUNTIME_ROLE, tables)
        restored = Restored(manifest, [])
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        for entry, target in _file_targets(manifest):
            if target.is_file():
                if file_sha256(target) == entry["sha256"]:
                    restored.files += 1
                    continue
                aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                os.replace(target, aside)
                restored.moved_aside.append(str(aside))
            extract_member(tar, entry, target)
            restored.files += 1
    counts = row_counts()
    restored.counts = [
        (label, manifest["counts"].get(label, 0), counts[label]) for label in COUNTED
    ]
    restored.evidence_problems = evidence_problems(
        {f["name"]: f["sha256"] for f in manifest["files"]}
    )
    return restored
