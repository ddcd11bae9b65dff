"""Test data for the queue: many cases at once, without a factory call per row."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import ChatAccount
from moderation.models import Case
from tests.support.factories import PlatformFactory


def make_open_cases(count: int, *, platform=None, prefix: str = "bulk", **fields) -> list[Case]:
    """`count` open cases, one account each, priorities spread with some ties."""
    platform = platform or PlatformFactory(slug="michat")
    now = timezone.now()
    accounts = ChatAccount.objects.bulk_create(
        [
            ChatAccount(
                platform=platform,
                identifier=f"{prefix}{i}",
                identifier_kind="handle",
                display_name=f"Name {i}",
                first_reported_at=now,
                last_reported_at=now,
            )
            for i in range(count)
        ]
    )
    defaults = {"category": "prostitution", "source_kinds": "ministry"}
    defaults.update(fields)
    return Case.objects.bulk_create(
        [
            Case(
                account=account,
                priority=float(i % 97),
                opened_at=now - timedelta(hours=i % 200),
                **defaults,
            )
            for i, account in enumerate(accounts)
        ]
    )
