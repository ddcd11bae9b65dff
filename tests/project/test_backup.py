"""Backups (config/backups/): `manage.py backup` of real data, `manage.py restore` into a new
empty database and media directory, the same rows, bytes and audit log; a damaged archive and
a database that is not empty are refused and left as they were, unless --force, which replaces
them and keeps a differing file beside."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.core.files.storage import FileSystemStorage
from django.db import connection
from psycopg import sql

from config.backups import COUNTED
from config.roles import Role
from moderation.audit import Actor, audit_record
from moderation.audit.services import checkpoints
from moderation.models import AuditEvent, AuditLeaf
from reports.models import Evidence
from tests.support import ROOT
from tests.support.auditlog import seal_all
from tests.support.factories import DecisionFactory, TakedownRequestFactory, UserFactory
from tests.support.intake import image_bytes, make_evidence

pytestmark = pytest.mark.django_db(transaction=True)


def database_url(name: str) -> str:
    params = connection.settings_dict
    user = quote(params["USER"] or "")
    password = f":{quote(params['PASSWORD'])}" if params["PASSWORD"] else ""
    host = params["HOST"] if params["HOST"] and not params["HOST"].startswith("/") else ""
    port = f":{params['PORT']}" if params["PORT"] else ""
    socket = f"?host={quote(params['HOST'])}" if params["HOST"].startswith("/") else ""
    return f"postgresql://{user}{password}@{host}{port}/{quote(name)}{socket}"


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(
        **{**connection.get_connection_params(), "dbname": "postgres"}, autocommit=True
    )


@contextlib.contextmanager
def empty_database() -> Iterator[str]:
    name = f"saring_restore_{secrets.token_hex(4)}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def tables_of(name: str) -> dict[str, int]:
    """Row counts of the COUNTED models' tables in database `name` (none: no tables)."""
    params = {**connection.get_connection_params(), "dbname": name}
    with psycopg.connect(**params) as conn:
        present = {
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        counts = {}
        for label in COUNTED:
            table = apps.get_model(label)._meta.db_table
            if table in present:
                query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                counts[label] = conn.execute(query).fetchone()[0]
    return counts


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def source(settings, tmp_path, monkeypatch) -> dict[str, str]:
    """Real data in the test database, evidence bytes and the audit files in a media
    directory of this test; returns the environment a process needs to see the same."""
    media = tmp_path / "source"
    env = {
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        "PRIVATE_MEDIA_ROOT": str(media),
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "keys" / "signing.key"),
        "AUDIT_CHECKPOINT_FILE": str(media / "audit" / "checkpoints.txt"),
        "AUDIT_LEAF_FILE": str(media / "audit" / "leaves.bin"),
        "AUDIT_WITNESS_URL": "",
    }
    settings.PRIVATE_MEDIA_ROOT = media
    for key in ("AUDIT_SIGNING_KEY_FILE", "AUDIT_CHECKPOINT_FILE", "AUDIT_LEAF_FILE"):
        setattr(settings, key, env[key])
    settings.AUDIT_WITNESS_URL = ""
    # The field took its storage when the model was imported: point it at this test's media.
    evidence_storage = FileSystemStorage(location=str(media / "evidence"))
    monkeypatch.setattr(Evidence._meta.get_field("file"), "storage", evidence_storage)
    checkpoints.create_signing_key(env["AUDIT_SIGNING_KEY_FILE"])

    UserFactory(roles=[Role.SUPERVISOR])
    make_evidence(image_bytes("PNG", (40, 30)))
    make_evidence(image_bytes("JPEG", (20, 10)), "image/jpeg")
    TakedownRequestFactory()
    DecisionFactory()
    for n in range(5):
        audit_record(actor=Actor.system(), action="test.event", data={"n": n})
    seal_everything()
    assert checkpoints.checkpoint_if_due(force=True) is not None
    return env


def seal_everything(timeout: float = 60.0) -> None:
    """Seal every event. An event is sealed once no transaction older than it is open on the
    server, and other sessions on a shared server may hold one for a while: wait for them."""
    deadline = time.monotonic() + timeout
    while AuditLeaf.objects.count() < AuditEvent.objects.count():
        if not seal_all():
            assert time.monotonic() < deadline, "events still unsealed: an old transaction?"
            time.sleep(0.1)


def source_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def test_it_restores_a_backup_into_an_empty_database_with_the_same_rows_files_and_log(
    source, tmp_path
):
    result = manage("backup", str(tmp_path), **source)
    assert result.returncode == 0, result.stderr
    archive = next(tmp_path.glob("saring-*.tar"))
    assert "Backup written" in result.stdout and "NOT in this backup" in result.stdout
    expected = source_counts()
    assert expected["reports.Evidence"] == 2 and expected["moderation.TakedownRequest"] == 1
    assert expected["moderation.AuditEvent"] == AuditEvent.objects.count() > 0

    restored_media = tmp_path / "restored"
    with empty_database() as name:
        env = {
            "DATABASE_URL": database_url(name),
            "PRIVATE_MEDIA_ROOT": str(restored_media),
            "AUDIT_CHECKPOINT_FILE": str(tmp_path / "restored-audit" / "checkpoints.txt"),
            "AUDIT_LEAF_FILE": str(tmp_path / "restored-audit" / "leaves.bin"),
            "AUDIT_SIGNING_KEY_FILE": source["AUDIT_SIGNING_KEY_FILE"],
            "AUDIT_WITNESS_URL": "",
        }
        result = manage("restore", str(archive), **env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "It extends the checkpoint at tree size" in result.stdout

        assert tables_of(name) == expected
        for evidence in Evidence.objects.all():
            copy = restored_media / "evidence" / evidence.file.name
            assert sha256_of(copy) == evidence.sha256 == sha256_of(Path(evidence.file.path))
        for key in ("AUDIT_CHECKPOINT_FILE", "AUDIT_LEAF_FILE"):
            assert Path(env[key]).read_bytes() == Path(source[key]).read_bytes()

        verified = manage("audit_verify", **env)
        assert verified.returncode == 0, verified.stderr
        assert f"Audit log intact: {expected['moderation.AuditEvent']} leaves" in verified.stdout


def test_it_refuses_a_damaged_archive_and_changes_nothing(source, tmp_path):
    archive = tmp_path / "backup.tar"
    assert manage("backup", str(archive), **source).returncode == 0
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("media/evidence/"))
    data = bytearray(archive.read_bytes())
    data[member.offset_data + 10] ^= 0xFF
    archive.write_bytes(bytes(data))

    restored_media = tmp_path / "restored"
    with empty_database() as name:
        result = manage(
            "restore", str(archive), DATABASE_URL=database_url(name),
            PRIVATE_MEDIA_ROOT=str(restored_media),
        )  # fmt: skip
        assert result.returncode != 0
        assert f"{member.name} is damaged" in result.stderr
        assert "Traceback" not in result.stderr
        assert tables_of(name) == {}
    assert not restored_media.exists()


def test_it_refuses_to_restore_into_a_database_that_is_not_empty(source, tmp_path):
    archive = tmp_path / "backup.tar"
    assert manage("backup", str(archive), **source).returncode == 0
    UserFactory()
    before = source_counts()
    result = manage(
        "restore", str(archive), **{**source, "PRIVATE_MEDIA_ROOT": str(tmp_path / "x")}
    )
    assert result.returncode != 0
    assert "Refusing to restore over existing data" in result.stderr
    assert "django_migrations among them" in result.stderr
    assert source_counts() == before


def test_it_restores_with_force_over_a_database_and_media_that_are_not_empty(source, tmp_path):
    archive = tmp_path / "backup.tar"
    assert manage("backup", str(archive), **source).returncode == 0
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    evidence = Evidence.objects.order_by("pk").first()
    original = Path(evidence.file.path)
    # After the backup: a row it does not hold, and evidence bytes it does not have.
    UserFactory()
    original.write_bytes(b"changed after the backup")
    assert source_counts() != manifest["counts"]

    result = manage("restore", "--force", str(archive), **source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr

    assert source_counts() == manifest["counts"]
    assert sha256_of(original) == evidence.sha256
    kept = list(original.parent.glob(f"{original.name}.before-restore-*"))
    assert len(kept) == 1
    assert re.fullmatch(
        rf"{re.escape(original.name)}\.before-restore-\d{{8}}T\d{{6}}Z", kept[0].name
    )
    assert kept[0].read_bytes() == b"changed after the backup"
    assert f"kept the file that was there as {kept[0]}" in result.stdout
    assert "It extends the checkpoint at tree size" in result.stdout

    verified = manage("audit_verify", **source)
    assert verified.returncode == 0, verified.stderr
    assert (
        f"Audit log intact: {manifest['counts']['moderation.AuditEvent']} leaves" in verified.stdout
    )


def test_a_pg_dump_older_than_the_server_is_refused_and_leaves_no_file(source, tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (tools / "pg_dump").chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    result = manage("backup", str(out), PG_BIN_DIR=str(tools), **source)
    assert result.returncode != 0
    assert "pg_dump 9.6.24, older than the server" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []
