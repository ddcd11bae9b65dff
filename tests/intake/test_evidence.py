"""Evidence files as reviewers see them, and reporters' contacts masked for all but
supervisors. Who may open evidence at all is the role matrix's (tests/security/)."""

from __future__ import annotations

import pytest

from reports.access import reporter_contact_for
from tests.support.factories import ReportFactory
from tests.support.intake import PNG, make_evidence

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["moderator", "supervisor", "auditor"])
def test_staff_who_review_or_audit_can_open_evidence(request, client_for, persona):
    evidence = make_evidence()
    response = client_for(request.getfixturevalue(persona)).get(f"/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_file_that_is_not_an_image_is_never_rendered(client_for, moderator):
    evidence = make_evidence(b"<script>alert(1)</script>", "text/html")
    response = client_for(moderator).get(f"/evidence/{evidence.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_reporter_contacts_are_masked_except_for_supervisors(moderator, supervisor, auditor):
    report = ReportFactory(
        source_kind="public",
        organisation=None,
        external_reference=None,
        reporter_name="Siti Aminah",
        reporter_email="siti@example.id",
        reporter_phone="0812-3456-7890",
    )
    assert reporter_contact_for(supervisor, report)["email"] == "siti@example.id"
    for user in (moderator, auditor):
        masked = reporter_contact_for(user, report)
        assert masked["masked"] and "siti@" not in masked["email"]
        assert masked["phone"] == "•••90" and masked["name"] == "S•••"
