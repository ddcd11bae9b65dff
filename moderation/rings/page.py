"""The ring card of the case page (issue 17): the other reported accounts this case's account
is linked to, why, their cases and whether they were taken down, and the pictures they share
with it side by side.

The ring is what `rings_rebuild` last computed (AccountRing); the account's direct links are
read too, so that a link made since the last rebuild (or before the first) already shows.
Everything is read in a fixed number of queries whatever the ring's size: at most
MEMBERS_SHOWN members are listed ("and N more"), at most PAIRS_PER_MEMBER picture pairs each.

What a viewer may see is decided here, once: a picture of a restricted category (CSAM,
terrorism) is never handed to a viewer without the Specialist role
(`reports.access.can_see_content`) — not even its address — and neither is the display name
of an account whose case is restricted. A picture whose bytes retention deleted stays a link,
shown as such.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import F, Min, Q, When, Window
from django.db.models.expressions import Case as Conditional
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

from accounts.categories import Category
from accounts.models import ChatAccount
from moderation.access import may_decide
from moderation.models import AccountRing, Case
from moderation.rings.graph import profile_url_key, stock_pictures_sql
from moderation.rings.returning import takedowns_confirmed
from reports.access import can_see_content
from reports.models import Evidence, PictureLink

# The ring members listed on the card ("and N more"), and the picture pairs shown per member.
MEMBERS_SHOWN = 50
PAIRS_PER_MEMBER = 3
# How many accounts sharing one of this account's numbers are read to list as links.
PHONE_LINKS_READ = 200

KIND_PICTURE, KIND_PHONE, KIND_PROFILE_URL = "picture", "phone", "profile_url"


@dataclass(frozen=True)
class RingPicture:
    """One side of a shared picture, as this viewer may see it: `shown` (drawn, blurred per
    their settings), `restricted` (a placeholder, no address), `deleted` (retention deleted
    the bytes on `deleted_at`) or `file` (not a picture a page shows inline)."""

    evidence_id: int
    state: str
    deleted_at: datetime | None = None
    case_id: int | None = None

    @property
    def shown(self) -> bool:
        return self.state == "shown"


@dataclass(frozen=True)
class PicturePair:
    mine: RingPicture  # this case's account's picture
    theirs: RingPicture  # the ring member's
    distance: int  # PDQ Hamming distance, 0-31


@dataclass(frozen=True)
class LinkReason:
    """Why a member is in the ring: a shared phone number, a shared picture (the closest
    distance, how many pairs) or the same profile address — with this account, or for a
    member linked only through others, with `via` (another member's platform · identifier)."""

    kind: str  # KIND_PICTURE | KIND_PHONE | KIND_PROFILE_URL
    phone: str = ""
    profile_url: str = ""
    distance: int | None = None
    pictures: int = 0
    via: str = ""


@dataclass(frozen=True)
class MemberCase:
    """The member account's current (open) or else latest case."""

    id: int
    status: str
    status_label: str
    category: str
    category_label: str
    version: int
    is_open: bool
    restricted: bool  # in a category this viewer may not open
    decidable: bool  # this viewer may decide it now (moderation.access.may_decide)


@dataclass(frozen=True)
class TakenDown:
    """The member account was taken down: by which request (None when only the account's
    status says so), of which case, when."""

    request_id: UUID | None
    case_id: int | None
    at: datetime | None


@dataclass(frozen=True)
class RingMember:
    account_id: int
    platform_name: str
    platform_slug: str
    identifier: str
    display_name: str  # "" when hidden from this viewer (a restricted case) or empty
    name_hidden: bool
    account_status: str
    account_status_label: str
    case: MemberCase | None
    taken_down: TakenDown | None
    reasons: list[LinkReason] = field(default_factory=list)
    pairs: list[PicturePair] = field(default_factory=list)
    direct: bool = False  # linked to this account itself, not only through other members


@dataclass(frozen=True)
class RingView:
    account_id: int
    members: list[RingMember]  # at most MEMBERS_SHOWN, direct links first
    total: int  # the other accounts of the ring, all of them
    shares_pictures: bool  # linked to at least one member by a picture
    computed_at: datetime | None  # when rings_rebuild placed it; None: direct links only

    @property
    def more(self) -> int:
        return self.total - len(self.members)

    @property
    def taken_down(self) -> int:
        return sum(1 for member in self.members if member.taken_down is not None)

    @property
    def decidable(self) -> list[RingMember]:
        return [m for m in self.members if m.case is not None and m.case.decidable]


# --- Public reads ---------------------------------------------------------------------------


def ring_for_case(*, case: Case, viewer: Any) -> RingView | None:
    """The ring card of `case` for `viewer`, or None when its account is linked to no other
    reported account. A fixed number of queries whatever the ring's size."""
    account = case.account
    found = _members(account)
    if not found.member_ids:
        return None
    shown_ids = found.member_ids[:MEMBERS_SHOWN]
    accounts: dict[int, ChatAccount] = {
        a.pk: a
        for a in ChatAccount.objects.filter(pk__in=[*shown_ids, account.pk])
        .select_related("platform")
        .annotate(url_key=RawSQL(_URL_KEY_SQL, []))  # noqa: S611 - no outside value
        .only(*MEMBER_FIELDS)
    }
    mine = accounts.pop(account.pk, None)
    direct = _with_profile_urls(found.direct, mine, accounts)
    cases = _latest_cases(shown_ids)
    taken = _taken_down(accounts.values())
    pairs = _picture_pairs(account.pk, shown_ids, found.stock, viewer)
    indirect = _links_among(account.pk, accounts, [i for i in shown_ids if i not in direct])
    members = []
    for account_id in shown_ids:
        other = accounts.get(account_id)
        if other is None:  # deleted since the ring was computed
            continue
        member_case = cases.get(account_id)
        restricted = member_case is not None and not can_see_content(viewer, member_case.category)
        members.append(
            RingMember(
                account_id=other.pk,
                platform_name=other.platform.name,
                platform_slug=other.platform.slug,
                identifier=other.identifier,
                display_name="" if restricted else other.display_name,
                name_hidden=restricted and bool(other.display_name),
                account_status=other.status,
                account_status_label=str(other.get_status_display()),
                case=_member_case(member_case, viewer) if member_case else None,
                taken_down=taken.get(other.pk),
                reasons=direct.get(other.pk) or indirect.get(other.pk, []),
                pairs=pairs.get(other.pk, []),
                direct=other.pk in direct,
            )
        )
    return RingView(
        account_id=account.pk,
        members=members,
        total=len(found.member_ids),
        shares_pictures=any(
            reason.kind == KIND_PICTURE for reasons in direct.values() for reason in reasons
        ),
        computed_at=found.membership.computed_at if found.membership is not None else None,
    )


def ring_case_ids(*, case: Case) -> set[int]:
    """`case` and the open cases of the other accounts of its ring (the ring card's): what a
    batch of takedown proposals from the card may touch."""
    member_ids = _members(case.account).member_ids
    open_cases = Case.objects.filter(account_id__in=member_ids, status__in=Case.OPEN_STATUSES)
    return {case.pk, *open_cases.values_list("pk", flat=True)}


MEMBER_FIELDS = (
    "id",
    "identifier",
    "display_name",
    "profile_url",
    "phone_numbers",
    "status",
    "platform__name",
    "platform__slug",
)
# The profile address's key (graph.profile_url_key) on the account rows read.
_URL_KEY_SQL = profile_url_key('"accounts_chataccount"."profile_url"')


@dataclass(frozen=True)
class _Found:
    direct: dict[int, list[LinkReason]]  # linked to the account itself, and why
    membership: AccountRing | None
    member_ids: list[int]  # the other accounts: direct links first, then the rest of the ring
    stock: set[int]  # stock pictures among the account's picture links


def _members(account: ChatAccount) -> _Found:
    """The account's direct links, its ring row, and the other accounts of its ring: those
    directly linked first (the strongest first), then the rest of the computed ring."""
    membership = AccountRing.objects.filter(account_id=account.pk).first()
    ring_ids: list[int] = []
    if membership is not None:
        last_rebuild: datetime | None = membership.computed_at
        ring_ids = list(
            AccountRing.objects.filter(ring=membership.ring)
            .exclude(account_id=account.pk)
            .order_by("account_id")
            .values_list("account_id", flat=True)
        )
    else:  # every row has the time of the last rebuild
        last_rebuild = AccountRing.objects.values_list("computed_at", flat=True).first()
    # A rebuild after the account last changed has compared its profile address already.
    ring_knows_url = last_rebuild is not None and account.updated_at <= last_rebuild
    links: dict[int, list[LinkReason]] = defaultdict(list)
    pictures, stock = _picture_links(account.pk)
    for other_id, distance, count in pictures:
        links[other_id].append(LinkReason(KIND_PICTURE, distance=distance, pictures=count))
    for other_id, phones in _phone_links(account):
        for phone in phones:
            links[other_id].append(LinkReason(KIND_PHONE, phone=phone))
    for other_id in _profile_url_links(account, ring_knows_url):
        links[other_id].append(LinkReason(KIND_PROFILE_URL, profile_url=account.profile_url))
    direct = dict(links)
    member_ids = list(dict.fromkeys([*_strongest_first(direct), *ring_ids]))
    return _Found(direct, membership, member_ids, stock)


def _with_profile_urls(
    direct: dict[int, list[LinkReason]], mine: ChatAccount | None, accounts: dict[int, ChatAccount]
) -> dict[int, list[LinkReason]]:
    """`direct` with the listed members whose profile address is this account's (from the
    rows read: the ring brought them, so they are not looked up by address)."""
    key = getattr(mine, "url_key", "") if mine is not None else ""
    if not key or mine is None:
        return direct
    merged = {pk: list(reasons) for pk, reasons in direct.items()}
    for pk, other in accounts.items():
        reasons = merged.setdefault(pk, [])
        if getattr(other, "url_key", "") == key and not any(
            r.kind == KIND_PROFILE_URL for r in reasons
        ):
            reasons.append(LinkReason(KIND_PROFILE_URL, profile_url=mine.profile_url))
    return {pk: reasons for pk, reasons in merged.items() if reasons}


def _strongest_first(direct: dict[int, list[LinkReason]]) -> list[int]:
    """Directly linked accounts, the closest pictures first, then numbers, then addresses."""

    def strength(item: tuple[int, list[LinkReason]]) -> tuple[int, int, int]:
        account_id, reasons = item
        distances = [r.distance for r in reasons if r.distance is not None]
        if distances:
            return (0, min(distances), account_id)
        if any(r.kind == KIND_PHONE for r in reasons):
            return (1, 0, account_id)
        return (2, 0, account_id)

    return [account_id for account_id, _ in sorted(direct.items(), key=strength)]


# --- Direct links ---------------------------------------------------------------------------
# A stock picture (a logo, a photo off the web) is one whose links reach more than
# RING_STOCK_PICTURE_ACCOUNTS other accounts; a number or profile address held by more than
# RING_STOCK_PHONE_ACCOUNTS accounts is stock too. The ring graph's rule (graph.py), so a stock
# value joins nobody and the card does not list it as a link.
_STOCK_PICTURES_SQL = stock_pictures_sql(among="%(pictures)s")


def _links_of(account_id: int) -> Q:
    return (Q(low_account_id=account_id) | Q(high_account_id=account_id)) & ~Q(
        low_account_id=F("high_account_id")
    )


def _stock_pictures(pictures: set[int]) -> set[int]:
    """Which of `pictures` are stock pictures (one query)."""
    if not pictures:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            _STOCK_PICTURES_SQL,
            {"pictures": sorted(pictures), "cap": settings.RING_STOCK_PICTURE_ACCOUNTS},
        )
        return {row[0] for row in cursor.fetchall()}


def _picture_links(account_id: int) -> tuple[list[tuple[int, int, int]], set[int]]:
    """(other account, closest distance, pairs) of `account_id`'s picture links, those with a
    stock picture at either end left out; and the stock pictures."""
    rows = list(
        PictureLink.objects.filter(_links_of(account_id)).values_list(
            "low_id", "high_id", "low_account_id", "high_account_id", "distance"
        )
    )
    stock = _stock_pictures({picture for row in rows for picture in row[:2]})
    closest: dict[int, int] = {}
    counts: dict[int, int] = defaultdict(int)
    for low, high, low_account, high_account, distance in rows:
        if low in stock or high in stock:
            continue
        other = high_account if low_account == account_id else low_account
        closest[other] = min(distance, closest.get(other, distance))
        counts[other] += 1
    return [(other, closest[other], counts[other]) for other in closest], stock


_PHONE_COUNTS_SQL = """
    SELECT phone, count(*) FROM accounts_chataccount, unnest(phone_numbers) AS phone
    WHERE phone_numbers && %s::varchar[] AND phone = ANY(%s) GROUP BY phone
"""


def _phone_links(account: ChatAccount) -> list[tuple[int, list[str]]]:
    """(other account, the numbers it shares) for `account`'s numbers that are not stock."""
    phones = list(account.phone_numbers or [])
    if not phones:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_PHONE_COUNTS_SQL, [phones, phones])
        counts = dict(cursor.fetchall())
    cap = settings.RING_STOCK_PHONE_ACCOUNTS
    linking = [p for p in phones if 1 < counts.get(p, 0) <= cap]
    if not linking:
        return []
    rows = (
        ChatAccount.objects.filter(phone_numbers__overlap=linking)
        .exclude(pk=account.pk)
        .order_by("pk")
        .values_list("pk", "phone_numbers")[:PHONE_LINKS_READ]
    )
    return [(pk, [p for p in linking if p in numbers]) for pk, numbers in rows]


# The accounts with the same profile address as account %(id)s (graph.profile_url_key: what
# "the same address" means for rings), one more than the stock cap at most. No index serves
# the comparison, so it is asked only when the ring may not know the account's address yet.
_SAME_PROFILE_URL_SQL = f"""
    SELECT o.id FROM accounts_chataccount m
      JOIN accounts_chataccount o
        ON o.id <> m.id AND o.profile_url <> ''
       AND {profile_url_key("o.profile_url")} = {profile_url_key("m.profile_url")}
     WHERE m.id = %(id)s AND m.profile_url <> ''
     LIMIT %(cap)s + 1
"""  # noqa: S608 - built from graph.py's constants only


def _profile_url_links(account: ChatAccount, ring_knows_it: bool) -> list[int]:
    """The accounts with the same profile address, unless a stock one (an agency's page)."""
    if not account.profile_url.strip() or ring_knows_it:
        return []
    cap = settings.RING_STOCK_PHONE_ACCOUNTS
    with connection.cursor() as cursor:
        cursor.execute(_SAME_PROFILE_URL_SQL, {"id": account.pk, "cap": cap})
        same = [row[0] for row in cursor.fetchall()]
    return same if len(same) + 1 <= cap else []  # the holders: these and the account


# --- The members' cases, takedowns and links among themselves --------------------------------


def _latest_cases(account_ids: list[int]) -> dict[int, Case]:
    """Each account's open case, or else its latest: one query (DISTINCT ON)."""
    open_first = Conditional(When(status__in=Case.OPEN_STATUSES, then=0), default=1)
    rows = (
        Case.objects.filter(account_id__in=account_ids)
        .annotate(open_first=open_first)
        .order_by("account_id", "open_first", "-opened_at", "-id")
        .distinct("account_id")
        .only(
            "id", "account_id", "status", "category", "version", "claimed_by_id", "claim_expires_at"
        )
    )
    return {case.account_id: case for case in rows}


def _member_case(case: Case, viewer: Any) -> MemberCase:
    return MemberCase(
        id=case.pk,
        status=case.status,
        status_label=str(case.get_status_display()),
        category=case.category,
        category_label=str(Category(case.category).label)
        if case.category in Category.values
        else case.category,
        version=case.version,
        is_open=case.status in Case.OPEN_STATUSES,
        restricted=viewer is not None and not can_see_content(viewer, case.category),
        decidable=viewer is not None and may_decide(viewer, case),
    )


def _taken_down(accounts: Iterable[ChatAccount]) -> dict[int, TakenDown]:
    """Which of `accounts` were taken down: by the one rule of it (`takedowns_confirmed`, the
    operator confirmed a request), with the latest such request; or, like the case page's
    banner (moderation.cases.glance), an account whose status says so without one."""
    listed = list(accounts)
    found: dict[int, TakenDown] = {}
    requests = (
        takedowns_confirmed()
        .filter(account_id__in=[a.pk for a in listed])
        .order_by("account_id", F("resolved_at").desc(nulls_last=True), "-issued_at")
        .distinct("account_id")
        .only("id", "account_id", "case_id", "resolved_at", "updated_at")
    )
    for request in requests:
        found[request.account_id] = TakenDown(
            request.pk, request.case_id, request.resolved_at or request.updated_at
        )
    for account in listed:
        if account.pk not in found and account.status == ChatAccount.Status.TAKEN_DOWN:
            found[account.pk] = TakenDown(None, None, None)
    return found


def _links_among(
    account_id: int, accounts: dict[int, ChatAccount], indirect_ids: list[int]
) -> dict[int, list[LinkReason]]:
    """For members linked to this account only through others: their links to the other
    listed members (pictures in one aggregated query; numbers and addresses from the rows
    already read), each naming the member it goes through, three at most."""
    if not indirect_ids:
        return {}
    listed = [*accounts, account_id]
    label = {pk: f"{a.platform.slug} · {a.identifier}" for pk, a in accounts.items()}
    found: dict[int, list[LinkReason]] = defaultdict(list)
    wanted = set(indirect_ids)
    pictures = (
        PictureLink.objects.filter(low_account_id__in=listed, high_account_id__in=listed)
        .filter(Q(low_account_id__in=indirect_ids) | Q(high_account_id__in=indirect_ids))
        .exclude(low_account_id=F("high_account_id"))
        .values("low_account_id", "high_account_id")
        .annotate(closest=Min("distance"))
        .order_by("closest", "low_account_id", "high_account_id")
    )
    for row in pictures:
        for this, other in (
            (row["low_account_id"], row["high_account_id"]),
            (row["high_account_id"], row["low_account_id"]),
        ):
            if this in wanted and other in label:
                found[this].append(
                    LinkReason(KIND_PICTURE, distance=row["closest"], via=label[other])
                )
    for this in indirect_ids:
        member = accounts.get(this)
        if member is None:
            continue
        key = getattr(member, "url_key", "")
        for other_id, other in accounts.items():
            if other_id == this:
                continue
            for phone in sorted(set(member.phone_numbers or []) & set(other.phone_numbers or [])):
                found[this].append(LinkReason(KIND_PHONE, phone=phone, via=label[other_id]))
            if key and key == getattr(other, "url_key", ""):
                found[this].append(
                    LinkReason(
                        KIND_PROFILE_URL, profile_url=member.profile_url, via=label[other_id]
                    )
                )
    return {pk: reasons[:3] for pk, reasons in found.items()}


# --- Picture pairs --------------------------------------------------------------------------


def _picture_pairs(
    account_id: int, member_ids: list[int], stock: set[int], viewer: Any
) -> dict[int, list[PicturePair]]:
    """Up to PAIRS_PER_MEMBER closest picture pairs between this account and each member
    (no stock picture), in one query (a window numbers each member's pairs), as the viewer
    may see them."""
    if not member_ids:
        return {}
    other = Conditional(
        When(low_account_id=account_id, then=F("high_account_id")),
        default=F("low_account_id"),
    )
    rows = (
        PictureLink.objects.filter(
            Q(low_account_id=account_id, high_account_id__in=member_ids)
            | Q(high_account_id=account_id, low_account_id__in=member_ids)
        )
        .exclude(low_id__in=stock)
        .exclude(high_id__in=stock)
        .annotate(
            other=other,
            rank=Window(
                RowNumber(), partition_by=[other], order_by=[F("distance").asc(), F("id").asc()]
            ),
        )
        .filter(rank__lte=PAIRS_PER_MEMBER)
        .select_related("low__report__case", "high__report__case")
        .only(
            "low_account_id",
            "high_account_id",
            "distance",
            *[
                f"{side}__{name}"
                for side in ("low", "high")
                for name in (
                    "id",
                    "content_type",
                    "deleted_at",
                    "report__id",
                    "report__case__id",
                    "report__case__category",
                )
            ],
        )
        .order_by("distance", "id")
    )
    pairs: dict[int, list[PicturePair]] = defaultdict(list)
    for link in rows:
        mine, theirs = (
            (link.low, link.high) if link.low_account_id == account_id else (link.high, link.low)
        )
        pairs[link.other].append(
            PicturePair(_picture(mine, viewer), _picture(theirs, viewer), link.distance)
        )
    return dict(pairs)


def _picture(evidence: Evidence, viewer: Any) -> RingPicture:
    case = evidence.report.case
    if viewer is None or not can_see_content(viewer, case.category):
        return RingPicture(evidence.pk, "restricted", case_id=case.pk)
    if evidence.deleted_at is not None:
        return RingPicture(evidence.pk, "deleted", evidence.deleted_at, case.pk)
    if not evidence.shown_inline:
        return RingPicture(evidence.pk, "file", case_id=case.pk)
    return RingPicture(evidence.pk, "shown", case_id=case.pk)
