"""The ring graph (issue 17): reported accounts are linked by a shared phone number, a shared
picture (reports.PictureLink: two pictures within PDQ_MATCH_DISTANCE, only ever between
hashes of good quality) or a shared profile address; the graph's connected components are
the rings, stored in AccountRing (README "Rings").

`rings_rebuild` recomputes the whole graph instead of maintaining it edge by edge: a picture
that becomes "stock" (below) must unlink the accounts it had joined, which a union-find
cannot undo, and the whole graph of 100,000 accounts takes seconds (bench/rings.py). The
edges come from three set-based queries, the components from a union-find in Python, and
AccountRing is rewritten in one transaction under an advisory lock, so two rebuilds never
interleave and readers see the old rings until the new ones commit.

Stock values join nobody: a picture whose links reach more than RING_STOCK_PICTURE_ACCOUNTS
other accounts (a stock photo, a logo, a meme) and a phone number or profile address held by
more than RING_STOCK_PHONE_ACCOUNTS accounts (a switchboard, an agency's link page) would
otherwise merge unrelated operators into one giant ring. Their links are kept (the case page
shows a stock picture as a common picture); they only never join accounts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

# Any fixed 64-bit number: two rebuilds at once wait for each other instead of both
# rewriting AccountRing.
RINGS_REBUILD_LOCK = 0x5A52_494E_4753

# A profile address as a key: surrounding blanks and trailing slashes off, the scheme and a
# leading "www." dropped, the host lower-cased; the path, whose case may matter, as it is.
_URL_HOST = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[Ww][Ww][Ww]\.)?([^/?#]*)"
_URL_REST = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*(.*)$"


def profile_url_key(column: str) -> str:
    """SQL for the key of the profile address in `column` ('' for none): what "the same
    profile address" means for rings and for returning accounts."""
    trimmed = f"regexp_replace(btrim({column}), '/+$', '')"
    return (
        f"(lower(substring({trimmed} from '{_URL_HOST}'))"
        f" || coalesce(substring({trimmed} from '{_URL_REST}'), ''))"
    )


# Every phone number held by two or more accounts: its holders, or NULL (and how many) when
# more than the stock cap hold it.
_PHONE_GROUPS = """
SELECT count(DISTINCT a.id),
       CASE WHEN count(DISTINCT a.id) <= %s THEN array_agg(DISTINCT a.id) END
  FROM accounts_chataccount a
 CROSS JOIN LATERAL unnest(a.phone_numbers) AS p(phone)
 GROUP BY p.phone
HAVING count(DISTINCT a.id) > 1
"""

_URL_GROUPS = f"""
SELECT count(DISTINCT k.id),
       CASE WHEN count(DISTINCT k.id) <= %s THEN array_agg(DISTINCT k.id) END
  FROM (SELECT a.id, {profile_url_key("a.profile_url")} AS url
          FROM accounts_chataccount a
         WHERE a.profile_url <> '') AS k
 WHERE k.url <> ''
 GROUP BY k.url
HAVING count(DISTINCT k.id) > 1
"""  # noqa: S608 - built from this module's constants only


def stock_pictures_sql(*, among: str = "") -> str:
    """SQL for the stock pictures (one column, `picture`): the one rule of what a stock
    picture is, for the ring graph and the case page's ring card. A picture's reach is the
    number of distinct other accounts its links lead to; a stock picture reaches more than
    `%(cap)s` (RING_STOCK_PICTURE_ACCOUNTS). `among`, when given, is an SQL array expression
    (a parameter such as `%(pictures)s`) that limits the answer to those pictures."""
    low = f" AND low_id = ANY({among})" if among else ""
    high = f" AND high_id = ANY({among})" if among else ""
    return f"""
    SELECT picture FROM (
        SELECT low_id AS picture, high_account_id AS other FROM reports_picturelink
         WHERE low_account_id <> high_account_id{low}
        UNION ALL
        SELECT high_id, low_account_id FROM reports_picturelink
         WHERE low_account_id <> high_account_id{high}
    ) ends
    GROUP BY picture HAVING count(DISTINCT other) > %(cap)s
"""  # noqa: S608 - built from this module's constants and the caller's placeholder


# The pairs of accounts that share a picture, neither side of the link being stock; and how
# many pictures are stock. Two aligned arrays (one row) travel faster than a row per pair.
_PICTURE_PAIRS = f"""
WITH stock AS MATERIALIZED ({stock_pictures_sql()}
), pairs AS (
    SELECT DISTINCT least(l.low_account_id, l.high_account_id) AS a,
                    greatest(l.low_account_id, l.high_account_id) AS b
      FROM reports_picturelink l
     WHERE l.low_account_id <> l.high_account_id
       AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.picture = l.low_id)
       AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.picture = l.high_id)
)
SELECT (SELECT count(*) FROM stock),
       coalesce(array_to_string(array_agg(a), ','), ''),
       coalesce(array_to_string(array_agg(b), ','), '')
  FROM pairs
"""  # noqa: S608 - built from this module's constants only

_RINGS_INSERT = """
INSERT INTO moderation_accountring (account_id, ring, size, computed_at)
SELECT u.account, u.ring, u.size, %s
  FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS u(account, ring, size)
"""


@dataclass(frozen=True)
class RingsRebuilt:
    """What a rebuild found: accounts in rings of two or more, the rings, the largest ring's
    size, the links of each kind that joined accounts (account pairs sharing a value, summed
    per value; distinct pairs sharing a picture), the stock pictures and stock phone numbers
    or profile addresses (which joined nobody), and where the time went (seconds)."""

    accounts: int
    rings: int
    largest: int
    edges: dict[str, int]
    stock_pictures: int
    stock_values: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def rings_rebuild(*, now: datetime | None = None) -> RingsRebuilt:
    """Recompute every ring from the three kinds of link and replace AccountRing with them,
    in one transaction; a second rebuild started meanwhile waits for this one."""
    now = now or timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RINGS_REBUILD_LOCK])
        loaded = time.perf_counter()
        edges = _edges_load()
        joined = time.perf_counter()
        roots = _components(edges.groups)
        sizes = Counter(roots.values())
        written = time.perf_counter()
        _rings_write(roots, sizes, now)
    finished = time.perf_counter()  # the commit included
    return RingsRebuilt(
        accounts=len(roots),
        rings=len(sizes),
        largest=max(sizes.values(), default=0),
        edges=edges.counts,
        stock_pictures=edges.stock_pictures,
        stock_values=edges.stock_values,
        seconds=round(finished - started, 3),
        timings={
            "lock": round(loaded - started, 3),
            "load": round(joined - loaded, 3),
            "union_find": round(written - joined, 3),
            "write": round(finished - written, 3),
        },
    )


@dataclass
class _Edges:
    groups: list[Sequence[int]]  # accounts that are all linked to each other
    counts: dict[str, int]
    stock_pictures: int
    stock_values: int


def _edges_load() -> _Edges:
    phone_cap = settings.RING_STOCK_PHONE_ACCOUNTS
    groups: list[Sequence[int]] = []
    counts = {"phone": 0, "picture": 0, "profile_url": 0}
    stock_values = 0
    with connection.cursor() as cursor:
        for kind, sql in (("phone", _PHONE_GROUPS), ("profile_url", _URL_GROUPS)):
            cursor.execute(sql, [phone_cap])
            for holders, members in cursor.fetchall():
                if members is None:
                    stock_values += 1
                    continue
                groups.append(members)
                counts[kind] += holders * (holders - 1) // 2
        cursor.execute(_PICTURE_PAIRS, {"cap": settings.RING_STOCK_PICTURE_ACCOUNTS})
        stock_pictures, lows, highs = cursor.fetchone()
    if lows:
        pairs = list(zip(map(int, lows.split(",")), map(int, highs.split(",")), strict=True))
        counts["picture"] = len(pairs)
        groups.extend(pairs)
    return _Edges(groups, counts, stock_pictures, stock_values)


def _components(groups: Iterable[Sequence[int]]) -> dict[int, int]:
    """Union-find over the groups (each group's accounts all join one component): every
    account's component, named by its smallest account id. Iterative, with path compression;
    the smaller root always wins, so a root is its component's smallest id."""
    parent: dict[int, int] = {}
    for group in groups:
        root = -1
        for node in group:
            top = node
            while True:  # find
                up = parent.get(top)
                if up is None:
                    parent[top] = top
                    break
                if up == top:
                    break
                top = up
            while node != top:  # compress the path walked
                parent[node], node = top, parent[node]
            if root < 0:
                root = top
            elif top < root:
                parent[root] = top
                root = top
            elif top > root:
                parent[top] = root
    return _all_roots(parent)


def _all_roots(parent: dict[int, int]) -> dict[int, int]:
    roots: dict[int, int] = {}
    for node in parent:
        top = node
        while parent[top] != top:
            top = parent[top]
        walk = node
        while walk != top:  # compress, so later nodes on this path stop at once
            parent[walk], walk = top, parent[walk]
        roots[node] = top
    return roots


def _rings_write(roots: dict[int, int], sizes: Counter[int], now: datetime) -> None:
    """Replace AccountRing: one DELETE, one INSERT of every member (arrays as text literals,
    which PostgreSQL parses faster than a driver dumps a list value by value)."""
    accounts = list(roots)
    rings = [roots[account] for account in accounts]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM moderation_accountring")
        if accounts:
            cursor.execute(
                _RINGS_INSERT,
                [
                    now,
                    _array(accounts),
                    _array(rings),
                    _array(sizes[ring] for ring in rings),
                ],
            )


def _array(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"
