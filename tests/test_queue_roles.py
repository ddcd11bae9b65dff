"""Who may do what on the queue and case pages: every view, every role."""

from __future__ import annotations

import pytest
from django.test import Client

from moderation.access import can_supervise
from moderation.models import Decision
from tests.factories import CaseFactory, LegalBasisFactory, UserFactory

pytestmark = pytest.mark.django_db

READ = ["/queue/", "/queue/counts/", "/cases/{pk}/"]
REVIEW_POSTS = [
    "/queue/next/",
    "/cases/{pk}/claim/",
    "/cases/{pk}/heartbeat/",
    "/cases/{pk}/decide/",
    "/cases/{pk}/notes/",
]
SUPERVISE_POSTS = ["/cases/{pk}/release/", "/cases/{pk}/reassign/", "/queue/bulk-dismiss/"]


def test_it_sends_anyone_signed_out_to_login():
    case = CaseFactory()
    client = Client()
    for path in READ + ["/queue/escalated/"]:
        response = client.get(path.format(pk=case.pk))
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    for path in REVIEW_POSTS + SUPERVISE_POSTS + ["/preferences/evidence/"]:
        response = client.post(path.format(pk=case.pk))
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_it_lets_an_auditor_read_but_not_decide(client_for, auditor):
    case = CaseFactory()
    client = client_for(auditor)
    for path in READ + ["/queue/escalated/"]:
        assert client.get(path.format(pk=case.pk)).status_code == 200, path
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "decide-dismiss" not in page and "next-case-form" not in page
    for path in REVIEW_POSTS + SUPERVISE_POSTS:
        assert client.post(path.format(pk=case.pk)).status_code == 403, path
    response = client.post(
        f"/cases/{case.pk}/decide/", {"outcome": "dismiss", "version": 1, "rationale": "x"}
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_it_lets_a_moderator_decide_but_not_approve_or_supervise(client_for, moderator):
    basis = LegalBasisFactory()
    case = CaseFactory()
    client = client_for(moderator)
    response = client.post(
        f"/cases/{case.pk}/decide/",
        {
            "outcome": "propose_takedown",
            "version": 1,
            "category": "prostitution",
            "legal_basis": basis.pk,
            "urgency": "normal",
            "rationale": "Offer with a price list.",
        },
    )
    assert response.status_code == 302
    assert Decision.objects.get(case=case).outcome == "propose_takedown"
    # Approving is a supervisor's (issue 5); a moderator holds no supervisor power anywhere.
    assert not can_supervise(moderator)
    for path in SUPERVISE_POSTS + ["/queue/escalated/"]:
        method = client.get if path.endswith("escalated/") else client.post
        assert method(path.format(pk=case.pk)).status_code == 403, path


def test_it_refuses_people_without_a_review_role(client_for, administrator):
    case = CaseFactory()
    client = client_for(administrator)
    for path in READ:
        assert client.get(path.format(pk=case.pk)).status_code == 403, path
    nobody = client_for(UserFactory(roles=[]))
    assert nobody.get("/queue/").status_code == 403
    assert nobody.post("/queue/next/").status_code == 403


def test_it_lets_a_supervisor_do_everything_a_moderator_does(client_for, supervisor):
    case = CaseFactory()
    response = client_for(supervisor).post("/queue/next/")
    assert response["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.claimed_by == supervisor


def test_it_keeps_evidence_blurred_for_those_who_ask(client_for, moderator):
    from moderation.models import AuditEvent, StaffPreference

    case = CaseFactory()
    client = client_for(moderator)
    assert 'data-keep-blurred="false"' in client.get(f"/cases/{case.pk}/").content.decode()
    client.post(
        "/preferences/evidence/", {"keep_evidence_blurred": "on", "back": f"/cases/{case.pk}/"}
    )
    assert StaffPreference.objects.get(user=moderator).keep_evidence_blurred
    assert 'data-keep-blurred="true"' in client.get(f"/cases/{case.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="preference.changed").count() == 1
