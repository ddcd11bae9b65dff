"""The one codec for keyset page cursors (the queue, escalated cases, takedown requests, the
decision log and the audit trail).

A long list pages by keyset, never OFFSET: a page starts after the sort key of the last row
of the page before, so page 500 costs what page 1 costs. The cursor in the link is that key,
written as its parts joined by "_": a float as Python writes it (it reads back exactly), an
int in decimal, a moment as whole microseconds since the epoch (UTC), a UUID in its usual
form. Anything that does not read back as the expected parts is `BadCursor`, never a 500.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

Part = float | int | datetime | UUID

MAX_LENGTH = 120
_INT = re.compile(r"-?\d{1,19}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class BadCursor(ValueError):
    """A cursor that is not one this codec wrote (edited, cut short or from another list)."""


def cursor_encode(*parts: Part) -> str:
    return "_".join(_encode(part) for part in parts)


def cursor_decode(text: str, kinds: tuple[type, ...]) -> tuple:
    """The parts of `text`, each read as the type in `kinds`; BadCursor if it does not fit."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise BadCursor(text)
    pieces = text.split("_")
    if len(pieces) != len(kinds):
        raise BadCursor(text)
    return tuple(_decode(piece, kind) for piece, kind in zip(pieces, kinds, strict=True))


def _encode(part: Part) -> str:
    if isinstance(part, datetime):
        return str((part - _EPOCH) // _MICROSECOND)
    if isinstance(part, float):
        return repr(part)
    if isinstance(part, int | UUID):
        return str(part)
    raise TypeError(f"a cursor cannot hold {type(part).__name__}")


def _decode(piece: str, kind: type) -> Part:
    if kind in (datetime, int):
        if not _INT.fullmatch(piece):
            raise BadCursor(piece)
        if kind is int:
            return int(piece)
        try:
            return _EPOCH + int(piece) * _MICROSECOND
        except OverflowError as error:
            raise BadCursor(piece) from error
    if kind is float:
        try:
            value = float(piece)
        except ValueError as error:
            raise BadCursor(piece) from error
        if not math.isfinite(value):
            raise BadCursor(piece)
        return value
    if kind is UUID:
        try:
            return UUID(piece)
        except ValueError as error:
            raise BadCursor(piece) from error
    raise TypeError(f"a cursor cannot hold {kind.__name__}")
