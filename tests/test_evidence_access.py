from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from reports.access import reporter_contact_for
from reports.models import Evidence
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_evidence(content: bytes = PNG, content_type: str = "image/png") -> Evidence:
    evidence = Evidence(
        report=ReportFactory(),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="shot.png",
    )
    evidence.file.save("shot.png", ContentFile(content), save=False)
    evidence.save()
    return evidence


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


def test_everyone_else_is_refused(client_for, administrator):
    evidence = make_evidence()
    anonymous = Client().get(f"/evidence/{evidence.pk}/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert client_for(administrator).get(f"/evidence/{evidence.pk}/").status_code == 403


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
