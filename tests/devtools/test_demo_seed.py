"""`seed_demo`: demo staff, platforms and organisations once, and realistic reports that go
through the intake service."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.identifiers import normalise_identifier
from accounts.models import ChatAccount, Platform
from devtools.management.commands.seed_demo import RING_ACCOUNTS
from moderation.models import AccountRing, AuditEvent, Case, LegalBasis, TakedownRequest
from reports.models import PictureHash, PictureLink, Report, SourceOrganisation

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_it_seeds_demo_reports_through_the_intake_service():
    out = StringIO()
    call_command("seed_demo", reports=60, stdout=out)
    assert Report.objects.count() == 60 + len(RING_ACCOUNTS)
    assert AuditEvent.objects.filter(action="report.received").count() == 60 + len(RING_ACCOUNTS)
    for case in Case.objects.all():
        assert case.report_count == case.reports.count()
        assert case.priority > 0
    call_command("seed_demo", reports=60, stdout=StringIO())
    assert Report.objects.count() == 60 + len(RING_ACCOUNTS)
    assert "moderator" in out.getvalue()


def test_seed_demo_loads_everything_once():
    first = run("seed_demo", reports=200)
    counts = (
        Report.objects.count(),
        Case.objects.count(),
        ChatAccount.objects.count(),
        User.objects.count(),
        Platform.objects.count(),
        SourceOrganisation.objects.count(),
        LegalBasis.objects.count(),
    )
    second = run("seed_demo", reports=200)
    again = (
        Report.objects.count(),
        Case.objects.count(),
        ChatAccount.objects.count(),
        User.objects.count(),
        Platform.objects.count(),
        SourceOrganisation.objects.count(),
        LegalBasis.objects.count(),
    )
    assert f"Demo data loaded: {200 + len(RING_ACCOUNTS)} reports" in first
    assert "nothing added" in second
    assert counts == again
    assert set(Platform.objects.values_list("slug", flat=True)) == {
        "michat",
        "telegram",
        "whatsapp",
    }
    assert set(SourceOrganisation.objects.values_list("slug", flat=True)) == {"kominfo", "polri"}
    assert {"moderator", "moderator2", "supervisor", "supervisor2", "auditor", "admin"} <= set(
        User.objects.values_list("username", flat=True)
    )


def test_seed_demo_makes_realistic_reports():
    run("seed_demo", reports=300)
    identifiers = list(ChatAccount.objects.values_list("identifier", flat=True))
    phones = [i for i in identifiers if i.startswith("+628")]
    assert phones and len(phones) < len(identifiers)  # phone numbers and handles
    submitted = set(Report.objects.values_list("account_identifier_submitted", flat=True))
    assert any(s.startswith("0") for s in submitted) and any(
        s.startswith("+62 ") for s in submitted
    )
    top = Report.objects.values_list("category", flat=True)
    assert sum(1 for c in top if c == "prostitution") > len(top) / 3
    assert Case.objects.filter(report_count__gt=1).exists()
    # Cases carry what the queue orders by: most important first.
    assert Case.objects.order_by("-priority").first().priority > 0


def test_the_demo_has_a_ring_with_one_account_taken_down_and_one_returning():
    run("seed_demo", reports=40)
    identifiers = [
        normalise_identifier(
            raw, profile_url_pattern=Platform.objects.get(slug=slug).profile_url_pattern
        ).value
        for slug, raw, *_ in RING_ACCOUNTS
    ]
    accounts = [ChatAccount.objects.get(identifier=value) for value in identifiers]
    assert len({a.platform.slug for a in accounts}) == 3
    rings = {AccountRing.objects.get(account=a).ring for a in accounts}
    assert len(rings) == 1
    first, last = accounts[0], accounts[-1]
    request = TakedownRequest.objects.get(account=first)
    assert request.status == TakedownRequest.Status.TAKEN_DOWN
    returning = Case.objects.get(account=last)
    assert returning.returning_from == request
    assert returning.returning_via in ("phone", "picture")
    # Only the account that came after the takedown is returning; the ring's others came before.
    assert not Case.objects.filter(
        account__in=accounts[1:-1], returning_from__isnull=False
    ).exists()
    # Every ring picture was hashed, and the copies of the first account's photo link to it.
    assert PictureHash.objects.count() >= sum(len(row[-1]) for row in RING_ACCOUNTS)
    assert PictureLink.objects.filter(low_account=first, high_account=last).exists()
