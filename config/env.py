"""Read settings from environment variables, failing loudly on a value that makes no sense.

A typo in a deployment's environment ("flase", "10s") must stop the process at start-up with
a message naming the variable, not quietly fall back to a default.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(RuntimeError):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfiguredEnv(f"The environment variable {name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={number} is below its minimum of {minimum}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not a number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={number} is below its minimum of {minimum}.")
    return number


def env_choice(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    """One of a few words, read as typed apart from case and surrounding spaces."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return word


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(url: str) -> dict:
    """Turn ``postgresql://user:pass@host:port/name?host=/socket/dir`` into a DATABASES entry.

    The ``host`` query parameter (a Unix socket directory) is what the embedded PostgreSQL
    hands out; it wins over the network location.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfiguredEnv(
            f"DATABASE_URL must start with postgresql:// (got scheme {parts.scheme!r})."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfiguredEnv("DATABASE_URL names no database (the path after the host).")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or (unquote(parts.hostname) if parts.hostname else "")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfiguredEnv("DATABASE_URL has a port that is not a number.") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
    }


# What a command may take from `make run`'s file: where its services are and how make run
# configures the app. Nothing else (scripts/dev.py RUN_FILE_KEYS writes the same).
RUN_FILE_KEYS = frozenset(
    {
        "DATABASE_URL",
        "REDIS_URL",
        "DEBUG",
        "SARING_HTTPS",
        "SECRET_KEY",
        "SITE_URL",
        "PLATFORM_SECRET_KEYS",
        "OPERATOR_SIMULATOR_URL",
        "OPERATOR_ENDPOINTS_LOOPBACK",
        "AUDIT_WITNESS_URL",
        "PRIVATE_MEDIA_ROOT",
        "STATIC_ROOT",
    }
)


def load_run_file(path: Path) -> bool:
    """Take `make run`'s settings from the file it keeps while it runs (scripts/dev.py
    `run_file_write`), for a management command started in another terminal without
    DATABASE_URL. Only a file of this user's own, readable by nobody else, from a make run
    still running, and only the keys make run writes; variables already set win. Returns
    whether the file was used."""
    if "DATABASE_URL" in os.environ:
        return False
    try:
        status = path.stat()
        if status.st_uid != os.getuid() or status.st_mode & 0o077:
            return False
        content = json.loads(path.read_text())
        pid, values = int(content["pid"]), dict(content["env"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return False  # someone else's process: not our make run
    for key, value in values.items():
        if key in RUN_FILE_KEYS:
            os.environ.setdefault(key, str(value))
    return True
