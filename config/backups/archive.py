"""The backup file itself: its members and manifest, files hashed as they are copied in and
out, and the check of every member against the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings

from config.backups.errors import BackupError

FORMAT = "saring-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media/"
CHECKPOINTS = "audit/checkpoints.txt"
LEAVES = "audit/leaves.bin"
LEAF_BYTES = hashlib.sha256().digest_size  # AUDIT_LEAF_FILE holds one SHA-256 per sealed leaf
CHUNK = 1 << 20


# --- Files, hashed as they are copied in ---------------------------------------------------------


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


def add_file(
    tar: tarfile.TarFile, name: str, path: Path, size: int | None = None
) -> dict[str, Any]:
    """Add `path` (its first `size` bytes) as `name`; returns its manifest entry."""
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


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
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


def whole_notes(path: Path) -> int:
    """The length of the checkpoint file up to its last complete note (each ends in a blank
    line), so a note being appended right now is not cut in half."""
    size = path.stat().st_size
    start = max(0, size - 65536)
    with open(path, "rb") as handle:
        handle.seek(start)
        end = handle.read(size - start).rfind(b"\n\n")
    return start + end + 2 if end >= 0 else 0


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Reading and checking an archive -------------------------------------------------------------


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


def extract_member(tar: tarfile.TarFile, entry: dict[str, Any], target: Path) -> None:
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
