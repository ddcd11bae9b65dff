"""Secrets kept encrypted at rest: the operators' signing and callback secrets.

The database — and every `pg_dump`, replica and backup of it — holds only Fernet tokens
(AES-128-CBC with HMAC-SHA256, `cryptography`'s MultiFernet), marked `fernet:`. The keys come
from the environment, `PLATFORM_SECRET_KEYS` (comma-separated, newest first), never from the
database, so someone who reads the tables cannot sign a takedown request or forge a callback.

Rotating the key without downtime (each step a rolling restart, one process at a time):
1. add the new key *second*, `PLATFORM_SECRET_KEYS=<old>,<new>`: every process can now read
   under either key, and all still write under the old one;
2. put it first, `PLATFORM_SECRET_KEYS=<new>,<old>`: processes write under the new key, and
   those not yet restarted can read it (step 1);
3. `manage.py rotate_platform_secrets` re-encrypts every stored secret under the new key
   (an audit event a platform records it);
4. drop the old key, `PLATFORM_SECRET_KEYS=<new>`.

A secret that no key opens (a key dropped before step 3) is an error that names the variable,
raised wherever a platform is read — the fix is to put the key back. Encrypted values cannot be
searched for: nothing filters on a secret. `manage.py dumpdata` goes through the model and so
writes secrets in clear: keep its output as secret as the keys.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PLATFORM_SECRET_KEYS must name at least one key.")
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"Key {number} of PLATFORM_SECRET_KEYS is not a Fernet key (32 bytes in "
                "URL-safe base64; `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` makes one)."
            ) from None
    return MultiFernet(fernets)


def box() -> MultiFernet:
    """The keys in force now (settings may change under tests; each set is built once)."""
    return _box(tuple(settings.PLATFORM_SECRET_KEYS))


def key_fingerprint() -> str:
    """Which key encrypts new secrets, for audit events: the first 16 hex digits of the
    SHA-256 of the key (it reveals nothing of the key)."""
    return hashlib.sha256(settings.PLATFORM_SECRET_KEYS[0].encode()).hexdigest()[:16]


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(plain: str) -> str:
    """The stored form of `plain`, encrypted under the newest key."""
    return PREFIX + box().encrypt(plain.encode()).decode()


def unseal(stored: str) -> str:
    """The secret in a stored value; an unmarked value was never encrypted and is refused."""
    if not is_sealed(stored):
        raise ImproperlyConfigured(
            "A platform secret is stored unencrypted; run `manage.py migrate` (accounts 0003 "
            "encrypts them)."
        )
    try:
        return box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A platform secret cannot be decrypted with any key in PLATFORM_SECRET_KEYS: was "
            "a key dropped before `manage.py rotate_platform_secrets` re-encrypted it?"
        ) from None


def reseal(stored: str) -> str:
    """`stored` re-encrypted under the newest key (the secret itself is unchanged)."""
    unseal(stored)  # an unmarked value or one no key opens: the explanation is raised
    return PREFIX + box().rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedSecretField(models.TextField):
    """A text field whose value is encrypted before it reaches the database and decrypted
    when it is read. The model and forms see the secret; the table holds a Fernet token."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else unseal(value)

    def get_prep_value(self, value: Any) -> Any:
        # Always sealed: the model holds the secret itself, never a stored token.
        value = super().get_prep_value(value)
        return None if value is None else seal(value)
