"""API tokens of source organisations: issued by command or in the admin, shown once, revoked."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from moderation.models import AuditEvent
from reports.models import ApiToken
from reports.services.tokens import token_hash
from tests.support.intake import michat, organisation, report_body

pytestmark = pytest.mark.django_db


def test_it_issues_a_token_whose_last_line_is_the_token():
    michat()
    org = organisation("polri", "police")
    out = StringIO()
    call_command("issue_token", "polri", "--label", "patrol", stdout=out)
    plain = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(organisation=org)
    assert token.token_hash == token_hash(plain) and plain not in token.token_hash
    assert token.label == "patrol" and plain.startswith(token.prefix)
    assert AuditEvent.objects.filter(action="api_token.issued", subject_id=str(token.pk)).exists()
    response = Client().post(
        "/api/v1/reports/",
        json.dumps(report_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201


def test_it_names_the_known_organisations_for_an_unknown_one():
    organisation("kominfo")
    with pytest.raises(Exception, match="kominfo"):
        call_command("issue_token", "nobody", stdout=StringIO())


def test_an_administrator_issues_a_token_once_and_revokes_it(client_for, administrator):
    org = organisation("kominfo")
    client = client_for(administrator)
    issued = client.post(
        "/admin/reports/sourceorganisation/",
        {"action": "issue_token", "_selected_action": [org.pk]},
    )
    assert issued.status_code == 302  # POST-redirect-GET: a reload cannot issue another
    page = client.get(issued["Location"])
    assert page.status_code == 200
    token = ApiToken.objects.get(organisation=org)
    text = page.content.decode()
    plain = text.split('<code class="issued-token">')[1].split("</code>")[0]
    assert token.token_hash == token_hash(plain)
    assert "no-store" in page["Cache-Control"]
    reloaded = client.get(issued["Location"]).content.decode()
    assert plain not in reloaded and "already shown" in reloaded
    assert ApiToken.objects.filter(organisation=org).count() == 1
    # The list never shows it again.
    listing = client.get("/admin/reports/apitoken/").content.decode()
    assert plain not in listing and token.prefix in listing
    client.post("/admin/reports/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == administrator
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1
