"""Writes for intake."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a receipt code is read aloud over the phone and typed from paper.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def receipt_code_new(prefix: str = "SR") -> str:
    """A code like ``SR-7KQ4-M2XD``: 40 bits of randomness, unguessable for a status page.
    Reports use SR-, objections KB- (keberatan)."""
    body = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"
