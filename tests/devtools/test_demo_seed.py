"""`seed_demo`: demo staff, platforms and organisations once, and realistic reports that go
through the intake service."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from accounts import signing
from accounts.identifiers import normalise_identifier
from accounts.models import ChatAccount, Platform
from devtools.management.commands.seed_demo import OBJECTION_ACCOUNTS, RING_ACCOUNTS
from moderation.models import (
    AccountRing,
    AuditEvent,
    Case,
    LegalBasis,
    Objection,
    RestoreRequest,
    TakedownRequest,
)
from moderation.objections import objection_refusal
from reports.models import PictureHash, PictureLink, Report, SourceOrganisation

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_it_seeds_demo_reports_through_the_intake_service():
    out = StringIO()
    call_command("seed_demo", reports=60, stdout=out)
    demo = len(RING_ACCOUNTS) + len(OBJECTION_ACCOUNTS)
    assert Report.objects.count() == 60 + demo
    assert AuditEvent.objects.filter(action="report.received").count() == 60 + demo
    for case in Case.objects.all():
        assert case.report_count == case.reports.count()
        assert case.priority > 0
    call_command("seed_demo", reports=60, stdout=StringIO())
    assert Report.objects.count() == 60 + demo
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
        Objection.objects.count(),
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
        Objection.objects.count(),
    )
    demo = len(RING_ACCOUNTS) + len(OBJECTION_ACCOUNTS)
    assert f"Demo data loaded: {200 + demo} reports" in first
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


def test_the_demo_has_an_objection_awaiting_a_decision_and_one_granted_and_restored():
    run("seed_demo", reports=40)
    objections = {o.account.identifier: o for o in Objection.objects.select_related("account")}
    assert len(objections) == len(OBJECTION_ACCOUNTS) == 2
    (_, raw_waiting, *_), (_, raw_granted, *_) = OBJECTION_ACCOUNTS
    waiting = objections[normalise_identifier(raw_waiting).value]
    granted = objections[normalise_identifier(raw_granted).value]

    # Forwarded by the operator, in Indonesian, awaiting a decision on a takedown carried out.
    assert (waiting.source, waiting.status) == ("operator", "received")
    assert waiting.operator_reference == "MC-KB-2026-0001"
    assert "diretas" in waiting.statement and waiting.contact_email
    assert waiting.takedown.status == TakedownRequest.Status.TAKEN_DOWN
    assert waiting.account.status == ChatAccount.Status.TAKEN_DOWN
    received = AuditEvent.objects.get(action="objection.received", subject_id=str(waiting.pk))
    assert received.actor_label == "operator:michat"
    # Fresh eyes: the approver may not decide it; supervisor2, who neither proposed nor
    # approved, may.
    supervisor, supervisor2 = (User.objects.get(username=u) for u in ("supervisor", "supervisor2"))
    assert waiting.approved_by == supervisor and waiting.proposed_by.username == "moderator"
    assert objection_refusal(objection=waiting, user=supervisor)
    assert objection_refusal(objection=waiting, user=supervisor2) == ""

    # From the public form, granted by a supervisor who neither proposed nor approved it, and
    # restored: the operator's signed callback closed the restore request.
    assert (granted.source, granted.status) == ("public", "granted")
    assert granted.decided_by == supervisor2
    assert granted.decided_by not in (granted.proposed_by, granted.approved_by)
    restore = RestoreRequest.objects.get(objection=granted)
    assert restore.status == RestoreRequest.Status.RESTORED and restore.resolved_at
    granted.account.refresh_from_db()
    assert granted.account.status == ChatAccount.Status.CLEARED
    assert set(
        AuditEvent.objects.filter(
            action__in=["objection.received", "objection.granted"], subject_id=str(granted.pk)
        ).values_list("action", flat=True)
    ) == {"objection.received", "objection.granted"}
    assert AuditEvent.objects.filter(action="restore.restored", subject_id=str(restore.pk)).exists()


def test_the_demo_operator_objection_forwarded_again_is_answered_as_a_repeat():
    """The demo stores the forwarded body's hash by the API's own rule, so the operator
    sending the same objection again gets the repeat answer, not a conflict."""
    run("seed_demo", reports=40)
    slug, _raw, _display, _days, _description, statement, reference, contact, _ = (
        OBJECTION_ACCOUNTS[0]
    )
    objection = Objection.objects.select_related("platform").get(operator_reference=reference)
    name, email, phone = contact
    body = json.dumps(
        {
            "objection_reference": reference,
            "request_id": str(objection.takedown_id),
            "statement": statement,
            "contact": {"name": name, "email": email, "phone": phone},
        }
    ).encode()
    headers = signing.signed_headers(objection.platform.callback_secret, body)

    response = Client().post(
        f"/api/v1/operators/{slug}/objections/",
        data=body,
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200
    assert response.json()["repeat"] is True
    assert response.json()["objection"] == objection.receipt_code
