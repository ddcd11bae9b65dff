"""Test data for rings (issue 17): accounts with numbers and profile addresses, evidence
pictures on their cases, picture links between them (as the picture hashing writes them; the
hashing itself is tested in tests/intake and end to end elsewhere) and confirmed takedowns."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import ChatAccount
from moderation.models import Case, TakedownRequest
from reports.models import Evidence, PictureLink
from tests.support.factories import (
    ApprovalFactory,
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    PlatformFactory,
    ReportFactory,
    TakedownRequestFactory,
)


def account(
    identifier: str, *, platform: str = "michat", phones=(), profile_url: str = ""
) -> ChatAccount:
    return ChatAccountFactory(
        platform=PlatformFactory(slug=platform),
        identifier=identifier,
        phone_numbers=list(phones),
        profile_url=profile_url,
    )


def open_case(owner: ChatAccount, **fields) -> Case:
    case = Case.objects.filter(account=owner, status__in=Case.OPEN_STATUSES).first()
    return case or CaseFactory(account=owner, **fields)


def picture(owner: ChatAccount) -> Evidence:
    """An evidence picture on a report of the account's case (the bytes are never read)."""
    report = ReportFactory(case=open_case(owner))
    return Evidence.objects.create(
        report=report,
        file=f"rings/{report.pk}.jpg",
        content_type="image/jpeg",
        size=1000,
        sha256=f"{report.pk:064x}",
    )


def link(first: Evidence, second: Evidence, *, distance: int = 6) -> PictureLink:
    low, high = sorted((first, second), key=lambda evidence: evidence.pk)
    return PictureLink.objects.create(
        low=low,
        high=high,
        low_account_id=low.report.account_id,
        high_account_id=high.report.account_id,
        distance=distance,
    )


def taken_down(
    owner: ChatAccount, *, status: str = "taken_down", days_ago: float = 30
) -> TakedownRequest:
    """A takedown of the account, approved, delivered and (by default) confirmed by the
    operator `days_ago` days ago — before the accounts a test makes were first reported, so
    they count as coming back after it: its case closed and the account's status set, as the
    callback leaves them."""
    now = timezone.now() - timedelta(days=days_ago)
    case = CaseFactory(account=owner, status=Case.Status.CLOSED, closed_at=now)
    approval = ApprovalFactory(decision=DecisionFactory(case=case))
    request = TakedownRequestFactory(
        approval=approval,
        status=status,
        sent_at=now,
        acknowledged_at=now,
        resolved_at=now if status == "taken_down" else None,
    )
    if status == "taken_down":
        ChatAccount.objects.filter(pk=owner.pk).update(status=ChatAccount.Status.TAKEN_DOWN)
    return request
