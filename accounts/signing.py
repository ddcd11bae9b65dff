"""The signature on every message between Saring and an operator (DESIGN.md "Contracts").

    X-Saring-Timestamp: <unix seconds>
    X-Saring-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

Both directions use it: our takedown requests with the platform's signing secret, the
operator's callbacks with its callback secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Saring-Timestamp"
SIGNATURE_HEADER = "X-Saring-Signature"
MAX_AGE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
) -> str | None:
    """None when the message is genuine and fresh, else the reason it is not."""
    if not timestamp or not signature:
        return "missing signature headers"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "timestamp is not a whole number"
    sent = int(timestamp)
    current = now if now is not None else time.time()
    if abs(current - sent) > max_age:
        return "stale timestamp"
    # compare_digest refuses non-ASCII text with a TypeError: such a signature is simply wrong.
    if not signature.isascii() or not hmac.compare_digest(sign(secret, sent, body), signature):
        return "bad signature"
    return None
