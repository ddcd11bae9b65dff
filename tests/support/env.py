"""The environment a production process runs with, for tests that start one."""

from __future__ import annotations

import os


def production_env(**extra) -> dict[str, str]:
    """This process's environment without the development switches, with production's
    secret key, host and address; `extra` overrides any of it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SARING_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        SECRET_KEY="p" * 30 + "roduction-secret-key-that-is-long-and-random-4f9a",
        ALLOWED_HOSTS="saring.komdigi.go.id",
        SITE_URL="https://saring.komdigi.go.id",
    )
    env.update(extra)
    return env
