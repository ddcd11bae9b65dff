"""Helpers for the ring card and ring batches (issue 17): reported accounts with a case, a
report and a stored picture each, picture links between real Evidence rows, and AccountRing
rows as `rings_rebuild` writes them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from moderation.models import AccountRing, Case
from reports.models import Evidence, PictureLink
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    PlatformFactory,
    ReportFactory,
)


def picture(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 72), (shade % 256, 60, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


def reported(
    identifier: str,
    *,
    platform: str = "michat",
    category: str = "prostitution",
    phones: Iterable[str] = (),
    profile_url: str = "",
    display_name: str = "",
    status: str = "open",
    **case_fields,
) -> Case:
    """A reported account on `platform` with a case (and one report on it)."""
    account = ChatAccountFactory(
        platform=PlatformFactory(slug=platform, name=platform.title()),
        identifier=identifier,
        display_name=display_name or identifier.title(),
        phone_numbers=list(phones),
        profile_url=profile_url,
    )
    case = CaseFactory(account=account, category=category, status=status, **case_fields)
    ReportFactory(case=case, category=category)
    return case


def evidence_on(case: Case, shade: int = 0) -> Evidence:
    """A stored PNG on the case's first report, as intake stores one."""
    content = picture(shade or case.pk)
    evidence = Evidence(
        report=case.reports.order_by("pk").first(),
        content_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="profile.png",
        width=96,
        height=72,
    )
    evidence.file.save("profile.png", ContentFile(content), save=False)
    evidence.save()
    return evidence


def link(a: Evidence, b: Evidence, distance: int = 4) -> PictureLink:
    """The PictureLink of two pictures (the smaller id first), with their accounts."""
    low, high = sorted([a, b], key=lambda e: e.pk)
    return PictureLink.objects.create(
        low=low,
        high=high,
        low_account_id=low.report.account_id,
        high_account_id=high.report.account_id,
        distance=distance,
    )


def ring_of(*cases: Case) -> None:
    """AccountRing rows for the cases' accounts, as one ring (named by its smallest id)."""
    ids = sorted(case.account_id for case in cases)
    now = timezone.now()
    AccountRing.objects.bulk_create(
        [AccountRing(account_id=pk, ring=ids[0], size=len(ids), computed_at=now) for pk in ids]
    )
