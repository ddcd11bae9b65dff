"""Returning accounts (issue 17): an account that DIRECTLY matches an account already taken
down — the same phone number, a linked picture (reports.PictureLink) or the same profile
address — is probably the same operator back under a new name.

"Already taken down" has one meaning, here, for this and for the case page
(moderation.cases.glance.account_taken_down): the operator confirmed a takedown request of the
account (TakedownRequest status `taken_down`, what its callback says once the account is
gone). A request only sent or acknowledged is not enough: the operator may still refuse it or
find no such account. An account whose status says "taken down" got it from such a request
(moderation.takedowns ends a request that way), and the request is what a returning case
links to; an account marked taken down by hand, without a request, has nothing to link to
and flags nobody.

The stock caps of the ring graph (moderation/rings/graph.py) hold here too for numbers and
pictures: a number held by more than RING_STOCK_PHONE_ACCOUNTS accounts, and a picture whose
links reach more than RING_STOCK_PICTURE_ACCOUNTS other accounts, make nobody "returning". Not
for profile addresses: no index gives how many accounts hold one (counting them is a scan of
every account, 200 ms at 100,000), and the same address as an account taken down is rare and
telling enough to flag.

`accounts_returning` answers for a batch of accounts in one query (intake runs it for every
batch of reports, so it costs index lookups per account: the GIN index on phone numbers,
PictureLink's account indexes; profile addresses are compared only with the accounts that
were taken down).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import ChatAccount
from moderation.models import Objection, TakedownRequest
from moderation.rings.graph import profile_url_key, stock_pictures_sql

# How the matches read in code, the audit trail and Case.returning_via; the first of equally
# recent takedowns wins in this order.
VIA_PHONE, VIA_PICTURE, VIA_PROFILE_URL = "phone", "picture", "profile_url"


def takedowns_confirmed() -> QuerySet[TakedownRequest]:
    """Takedown requests whose account is taken down: the operator confirmed it, and no
    objection to it was granted (issue 18: a takedown found wrong and restored marks nobody
    as coming back)."""
    return TakedownRequest.objects.filter(status=TakedownRequest.Status.TAKEN_DOWN).exclude(
        objection__status=Objection.Status.GRANTED
    )


# The same rule in SQL, for the queries below: `t` is a moderation_takedownrequest row.
_CONFIRMED_SQL = """t.status = %(taken_down)s AND NOT EXISTS (
    SELECT 1 FROM moderation_objection g WHERE g.takedown_id = t.id AND g.status = 'granted')"""


@dataclass(frozen=True)
class ReturningMatch:
    account_id: int  # the account that came back
    request_id: UUID  # the confirmed takedown of the account it matches
    via: str  # VIA_PHONE | VIA_PICTURE | VIA_PROFILE_URL
    other_account_id: int  # the account taken down


@dataclass(frozen=True)
class Returning:
    """The old takedown an account matches (with its account and platform), and how."""

    request: TakedownRequest
    via: str


_MATCHES = f"""
WITH mine AS (
    SELECT a.id, a.phone_numbers, a.profile_url, a.first_reported_at
      FROM accounts_chataccount a
     WHERE a.id = ANY(%(ids)s)
), phone AS (
    SELECT m.id AS account_id, o.id AS other_id,
           count(*) OVER (PARTITION BY m.id, p.phone) AS holders
      FROM mine m
     CROSS JOIN LATERAL unnest(m.phone_numbers) AS p(phone)
      JOIN accounts_chataccount o ON o.phone_numbers @> ARRAY[p.phone]
), url AS MATERIALIZED (
    -- Compared only with accounts taken down, each read by its key (OFFSET 0 keeps the
    -- lookup per account: a join would scan every account's address through the regexes).
    SELECT m.id AS account_id, o.id AS other_id
      FROM (SELECT DISTINCT t.account_id FROM moderation_takedownrequest t
             WHERE {_CONFIRMED_SQL}) d
     CROSS JOIN LATERAL (SELECT a.id, {profile_url_key("a.profile_url")} AS url
                           FROM accounts_chataccount a
                          WHERE a.id = d.account_id AND a.profile_url <> '' OFFSET 0) o
      JOIN mine m ON m.profile_url <> '' AND m.id <> o.id
       AND {profile_url_key("m.profile_url")} = o.url
), picture AS (
    -- Each account's links through PictureLink's account indexes (OFFSET 0: never a scan of
    -- every link).
    SELECT m.id AS account_id, l.other_id, l.mine_pic, l.other_pic
      FROM mine m
     CROSS JOIN LATERAL (
           SELECT high_account_id AS other_id, low_id AS mine_pic, high_id AS other_pic
             FROM reports_picturelink WHERE low_account_id = m.id
           UNION ALL
           SELECT low_account_id, high_id, low_id
             FROM reports_picturelink WHERE high_account_id = m.id
           OFFSET 0) l
), hits AS (
    SELECT account_id, other_id, '{VIA_PHONE}' AS via, 0 AS rank,
           NULL::bigint AS mine_pic, NULL::bigint AS other_pic
      FROM phone WHERE other_id <> account_id AND holders <= %(phone_cap)s
    UNION ALL
    SELECT account_id, other_id, '{VIA_PICTURE}', 1, mine_pic, other_pic
      FROM picture WHERE other_id <> account_id
    UNION ALL
    SELECT account_id, other_id, '{VIA_PROFILE_URL}', 2, NULL, NULL FROM url
), found AS MATERIALIZED (
    -- Only a takedown confirmed before the account was first reported: an account of the
    -- ring reported before its sister was taken down did not "come back".
    SELECT h.*, t.id AS request_id, t.resolved_at, t.issued_at
      FROM hits h
      JOIN mine n ON n.id = h.account_id
     CROSS JOIN LATERAL (
           SELECT t.id, t.resolved_at, t.issued_at FROM moderation_takedownrequest t
            WHERE t.account_id = h.other_id AND {_CONFIRMED_SQL}
              AND t.resolved_at <= n.first_reported_at
            ORDER BY t.resolved_at DESC NULLS LAST, t.issued_at DESC
            LIMIT 1) t
)
, stock AS MATERIALIZED ({
    stock_pictures_sql(
        among="ARRAY(SELECT p FROM (SELECT mine_pic FROM found UNION "
        "SELECT other_pic FROM found) AS x(p) WHERE p IS NOT NULL)"
    )
})
SELECT DISTINCT ON (f.account_id) f.account_id, f.request_id, f.via, f.other_id
  FROM found f
 WHERE f.via <> '{VIA_PICTURE}'
    OR NOT EXISTS (SELECT 1 FROM stock s WHERE s.picture IN (f.mine_pic, f.other_pic))
 ORDER BY f.account_id, f.resolved_at DESC NULLS LAST, f.issued_at DESC, f.rank
"""  # noqa: S608 - built from this module's constants only


def accounts_returning(*, account_ids: Iterable[int]) -> dict[int, ReturningMatch]:
    """Of these accounts, those that directly match an account taken down before they were
    first reported, with the most recent such takedown (one query)."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner's row estimates for unnest and the GIN lookups are far too high, which
        # would switch JIT on: compiling took 700 ms for a query of milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _MATCHES,
            {
                "ids": ids,
                "taken_down": TakedownRequest.Status.TAKEN_DOWN.value,
                "phone_cap": settings.RING_STOCK_PHONE_ACCOUNTS,
                "cap": settings.RING_STOCK_PICTURE_ACCOUNTS,
            },
        )
        rows = cursor.fetchall()
        # It only read: rolling back (to the savepoint, inside a caller's transaction) undoes
        # nothing but the SET LOCAL, which would otherwise last to the end of the caller's.
        transaction.set_rollback(True)
    return {
        account_id: ReturningMatch(account_id, request_id, via, other_id)
        for account_id, request_id, via, other_id in rows
    }


def account_returning(account: ChatAccount) -> Returning | None:
    """The confirmed takedown of another account this one directly matches (the most recent
    one), and by what; None when it matches none."""
    match = accounts_returning(account_ids=[account.pk]).get(account.pk)
    if match is None:
        return None
    request = TakedownRequest.objects.select_related("account__platform").get(pk=match.request_id)
    return Returning(request=request, via=match.via)
