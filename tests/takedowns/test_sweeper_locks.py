"""The sweeper and the SLA check lock only the takedown requests they take, never the
platform row they filter by: someone holding that row (an administrator saving the platform,
an approval's foreign-key check at commit) neither hides the platform's requests from them nor
deadlocks with them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Platform
from moderation.models import TakedownRequest
from moderation.takedowns.services import takedown_sla_check, takedown_sweep
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    PlatformFactory,
    TakedownRequestFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def request_on(platform, **fields) -> TakedownRequest:
    case = CaseFactory(account=ChatAccountFactory(platform=platform))
    return TakedownRequestFactory(approval__decision__case=case, **fields)


def while_platform_row_is_held(platform, action):
    """Run `action` while another connection holds the platform's row for an update."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                # As saving the platform does (platform_configure, the admin).
                Platform.objects.select_for_update(no_key=True).get(pk=platform.pk)
                held.set()
                done.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        return action()
    finally:
        done.set()
        holder.join(20)


def test_the_sweeper_requeues_a_due_request_whose_platform_row_is_held():
    platform = PlatformFactory(slug="michat")
    long_ago = timezone.now() - timedelta(hours=1)
    request = request_on(platform, status="pending", next_attempt_at=long_ago)
    assert while_platform_row_is_held(platform, takedown_sweep) == [str(request.pk)]


def test_the_sla_check_marks_an_overdue_request_whose_platform_row_is_held():
    platform = PlatformFactory(slug="michat")
    issued = timezone.now() - timedelta(hours=30)
    request = request_on(
        platform, status="acknowledged", issued_at=issued, deadline=issued + timedelta(hours=24)
    )
    result = while_platform_row_is_held(platform, takedown_sla_check)
    assert result["overdue"] == 1
    request.refresh_from_db()
    assert request.overdue_at is not None
