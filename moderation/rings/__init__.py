"""Rings (issue 17): reported accounts linked by a shared phone number, a shared picture (PDQ,
reports.PictureLink) or a shared profile address, and accounts that come back after a
takedown ("returning"). README "Rings".

The public face. For the beat task, the command and the picture hashing: `rings_rebuild`
(the whole graph's connected components into AccountRing, in one transaction) and
`rings_rebuild_soon` (one debounced rebuild after the current transaction commits). For
cases (intake and the picture hashing flag returning accounts through them):
`accounts_returning` (a batch, one query) and `account_returning` (one account, with its old
takedown request) — a DIRECT match to an account already taken down, by the one rule of
what "taken down" means (`takedowns_confirmed`, also the case page's). For the case page:
`ring_for_case` (the ring card: members, why linked, their cases, takedowns, the shared
pictures as the viewer may see them) and `ring_case_ids` (what a batch of takedown proposals
from the card may touch). The edge loading, the union-find and the Celery task stay inside
the area.
"""

from moderation.rings.graph import RingsRebuilt, rings_rebuild
from moderation.rings.page import (
    LinkReason,
    MemberCase,
    PicturePair,
    RingMember,
    RingPicture,
    RingView,
    TakenDown,
    ring_case_ids,
    ring_for_case,
)
from moderation.rings.returning import (
    Returning,
    ReturningMatch,
    account_returning,
    accounts_returning,
    takedowns_confirmed,
)
from moderation.rings.tasks import rings_rebuild_soon

__all__ = [
    "LinkReason",
    "MemberCase",
    "PicturePair",
    "Returning",
    "ReturningMatch",
    "RingMember",
    "RingPicture",
    "RingView",
    "RingsRebuilt",
    "TakenDown",
    "account_returning",
    "accounts_returning",
    "ring_case_ids",
    "ring_for_case",
    "rings_rebuild",
    "rings_rebuild_soon",
    "takedowns_confirmed",
]
