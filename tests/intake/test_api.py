from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import ChatAccount
from moderation.models import AuditEvent, Case
from reports.models import ApiToken, Evidence, Report
from reports.services.tokens import api_token_revoke
from tests.support.intake import image_bytes, report_body

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def post(token: str | None, path: str, body, *, content_type="application/json", raw=False):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if raw else json.dumps(body)
    return Client().post(path, data=data, content_type=content_type, **headers)


def test_it_creates_a_report_on_a_new_account_and_case(ministry_token):
    org, token = ministry_token
    response = post(token, "/api/v1/reports/", report_body())
    assert response.status_code == 201, response.content
    data = response.json()
    report = Report.objects.get(pk=data["id"])
    assert data["case"] == report.case_id and data["account"] == report.account_id
    assert data["status"] == "received"
    assert data["receipt_code"] == report.receipt_code
    assert report.account.identifier == "+6281234567890"
    assert report.account.phone_numbers == ["+6281234567890"]
    case = report.case
    assert (case.report_count, case.reporter_count, case.source_kinds) == (1, 1, "ministry")
    assert case.priority > 0
    event = AuditEvent.objects.get(action="report.received")
    assert event.subject_id == str(report.pk) and event.actor_label == "organisation:kominfo"
    assert ApiToken.objects.get(organisation=org).last_used_at is not None


def test_it_attaches_reports_on_one_account_in_any_format_to_one_case(ministry_token, police_token):
    _, ministry = ministry_token
    _, police = police_token
    first = post(ministry, "/api/v1/reports/", report_body("A")).json()
    body = report_body("B", account={"identifier": "+62 812 3456 7890"})
    second = post(police, "/api/v1/reports/", body).json()
    third = post(
        police, "/api/v1/reports/", report_body("C", account={"identifier": "812 3456 7890"})
    )
    assert first["case"] == second["case"] == third.json()["case"]
    case = Case.objects.get(pk=first["case"])
    assert (case.report_count, case.reporter_count) == (3, 2)
    assert case.source_kinds == "ministry,police"
    assert ChatAccount.objects.count() == 1


def test_it_opens_a_new_case_linked_to_the_closed_one(ministry_token):
    _, token = ministry_token
    first = post(token, "/api/v1/reports/", report_body("A")).json()
    Case.objects.filter(pk=first["case"]).update(status="dismissed")
    ChatAccount.objects.update(status="cleared")
    second = post(token, "/api/v1/reports/", report_body("B")).json()
    assert second["case"] != first["case"]
    assert Case.objects.get(pk=second["case"]).previous_case_id == first["case"]
    assert ChatAccount.objects.get().status == "under_review"


def test_it_reads_a_profile_url_of_a_known_platform(ministry_token):
    _, token = ministry_token
    body = report_body(account={"identifier": "https://michat.id/u/@Bella_BO"})
    data = post(token, "/api/v1/reports/", body).json()
    assert Report.objects.get(pk=data["id"]).account.identifier == "bella_bo"


def test_it_answers_a_repeat_with_the_original_and_a_changed_body_with_409(ministry_token):
    _, token = ministry_token
    first = post(token, "/api/v1/reports/", report_body("SAME"))
    again = post(token, "/api/v1/reports/", report_body("SAME"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = post(token, "/api/v1/reports/", report_body("SAME", description="Other text"))
    assert changed.status_code == 409 and changed["Content-Type"] == PROBLEM
    assert Report.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.received").count() == 1


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", "Token abc", "Bearer", "Basic dXNlcjpwYXNz"],
)
def test_it_refuses_a_missing_or_wrong_token_with_401(ministry_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().post(
        "/api/v1/reports/", json.dumps(report_body()), content_type="application/json", **extra
    )
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Report.objects.count() == 0


def test_it_refuses_a_revoked_token_with_401(ministry_token):
    org, token = ministry_token
    assert post(token, "/api/v1/reports/", report_body("A")).status_code == 201
    assert api_token_revoke(token=ApiToken.objects.get(organisation=org))
    assert post(token, "/api/v1/reports/", report_body("B")).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"category": "jaywalking"}, "category"),
        ({"description": ""}, "description"),
        ({"description": "x" * (10 * 1024 * 1024)}, "description"),
        ({"account": {"identifier": "@@@ ---"}}, "account.identifier"),
        ({"account": {"identifier": "\u200b\u200b"}}, "account.identifier"),
        ({"account": {"identifier": "https://example.com/nobody"}}, "account.identifier"),
        ({"account": "0812"}, "account"),
        ({"external_reference": ""}, "external_reference"),
        ({"observed_at": "yesterday"}, "observed_at"),
        ({"observed_at": "2026-13-45T10:00:00"}, "observed_at"),
        ({"platform": ["michat"]}, "platform"),
        ({"account": {"identifier": 812345}}, "account.identifier"),
        ({"content_urls": ["javascript:alert(1)"]}, "content_urls"),
        ({"urgent": "yes"}, "urgent"),
    ],
)
def test_it_refuses_bad_fields_with_400_and_field_errors(ministry_token, override, field):
    _, token = ministry_token
    response = post(token, "/api/v1/reports/", report_body(**override))
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400 and field in problem["errors"], problem
    assert Report.objects.count() == 0


def test_it_refuses_malformed_json_with_400(ministry_token):
    _, token = ministry_token
    response = post(token, "/api/v1/reports/", '{"external_reference": "A",', raw=True)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert "JSON" in response.json()["detail"]


def test_it_refuses_a_json_array_for_a_single_report(ministry_token):
    _, token = ministry_token
    response = post(token, "/api/v1/reports/", [report_body()])
    assert response.status_code == 400


def test_it_refuses_the_wrong_content_type_with_415(ministry_token):
    _, token = ministry_token
    response = post(
        token, "/api/v1/reports/", "external_reference=A", content_type="text/plain", raw=True
    )
    assert response.status_code == 415 and response["Content-Type"] == PROBLEM


def test_it_strips_nul_characters(ministry_token):
    _, token = ministry_token
    body = report_body(description="Open\x00 BO", account={"identifier": "bel\x00la"})
    response = post(token, "/api/v1/reports/", body)
    assert response.status_code == 201
    report = Report.objects.get()
    assert report.description == "Open BO" and report.account.identifier == "bella"


def test_it_stores_html_as_text(ministry_token):
    _, token = ministry_token
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    body = report_body(
        external_reference=script,
        description=script,
        content_urls=["https://michat.id/post/1?q=<script>", "http://x.example/a b"],
        account={"identifier": "bella" + script, "display_name": script},
    )
    response = post(token, "/api/v1/reports/", body)
    assert response.status_code == 201
    report = Report.objects.get()
    assert report.description == script and report.external_reference == script
    assert report.account.display_name == script
    assert report.content_urls == ["https://michat.id/post/1?q=<script>", "http://x.example/a b"]


def test_a_batch_gives_one_result_per_item_in_order(ministry_token):
    _, token = ministry_token
    items = [
        report_body("B-1"),
        report_body("B-2", platform="nope"),
        report_body("B-3", account={"identifier": "@Manja_Jkt"}),
        report_body("B-1"),
        report_body("B-3", description="changed"),
    ]
    response = post(token, "/api/v1/reports/batch/", {"reports": items})
    assert response.status_code == 200, response.content
    data = response.json()
    assert [r["status"] for r in data["results"]] == [201, 400, 201, 200, 409]
    assert [r["index"] for r in data["results"]] == [0, 1, 2, 3, 4]
    assert data["results"][3]["report"]["id"] == data["results"][0]["report"]["id"]
    assert "platform" in data["results"][1]["errors"]
    assert (data["created"], data["duplicates"], data["conflicts"], data["invalid"]) == (2, 1, 1, 1)
    assert Report.objects.count() == 2
    assert AuditEvent.objects.filter(action="report.received").count() == 2


def test_a_batch_of_500_is_accepted_and_501_refused(ministry_token):
    _, token = ministry_token
    items = [report_body(f"N-{i}", account={"identifier": f"akun{i % 50}"}) for i in range(501)]
    too_many = post(token, "/api/v1/reports/batch/", {"reports": items})
    assert too_many.status_code == 400 and too_many["Content-Type"] == PROBLEM
    assert "reports" in too_many.json()["errors"]
    assert Report.objects.count() == 0
    ok = post(token, "/api/v1/reports/batch/", {"reports": items[:500]})
    assert ok.status_code == 200 and ok.json()["created"] == 500
    assert AuditEvent.objects.filter(action="report.received").count() == 500
    report = Report.objects.get(external_reference="N-7")
    assert report.content_urls == []
    assert Case.objects.count() == 50
    assert sorted(set(Case.objects.values_list("report_count", flat=True))) == [10]


def test_it_shows_only_the_callers_own_reports(ministry_token, police_token):
    _, ministry = ministry_token
    _, police = police_token
    created = post(ministry, "/api/v1/reports/", report_body()).json()
    own = Client().get(f"/api/v1/reports/{created['id']}/", HTTP_AUTHORIZATION=f"Bearer {ministry}")
    assert own.status_code == 200 and own.json()["status"] == "received"
    other = Client().get(f"/api/v1/reports/{created['id']}/", HTTP_AUTHORIZATION=f"Bearer {police}")
    assert other.status_code == 404 and other["Content-Type"] == PROBLEM


def test_evidence_upload_is_checked_and_stripped_of_exif(ministry_token):
    _, token = ministry_token
    created = post(token, "/api/v1/reports/", report_body()).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("shot.jpg", image_bytes("JPEG", exif=True), "image/jpeg")
    response = Client().post(f"/api/v1/reports/{created['id']}/evidence/", {"file": photo}, **auth)
    assert response.status_code == 201, response.content
    evidence = Evidence.objects.get()
    stored = evidence.file.open("rb").read()
    assert b"SecretCam" not in stored and evidence.content_type == "image/jpeg"
    import hashlib

    assert hashlib.sha256(stored).hexdigest() == evidence.sha256

    fake = SimpleUploadedFile("shot.jpg", b"<html>not an image</html>", "image/jpeg")
    response = Client().post(f"/api/v1/reports/{created['id']}/evidence/", {"file": fake}, **auth)
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert Evidence.objects.count() == 1


def test_the_evidence_event_records_the_upload_as_received_and_as_stored(ministry_token):
    """Chain of custody: the SHA-256 of the bytes we were sent, and of the re-encoded file we
    keep, both in the audit event (so the log proves what arrived and what was stored)."""
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    _, token = ministry_token
    created = post(token, "/api/v1/reports/", report_body()).json()
    sent = image_bytes("JPEG", exif=True)
    photo = SimpleUploadedFile("shot.jpg", sent, "image/jpeg")
    response = Client().post(
        f"/api/v1/reports/{created['id']}/evidence/",
        {"file": photo},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    evidence = Evidence.objects.get()
    recorded = AuditEvent.objects.get(action="evidence.added").data["after"]
    assert recorded["original_sha256"] == hashlib.sha256(sent).hexdigest()
    assert recorded["original_size"] == len(sent)
    assert recorded["sha256"] == hashlib.sha256(evidence.file.open("rb").read()).hexdigest()
    assert recorded["original_sha256"] != recorded["sha256"]  # re-encoded: EXIF is gone


def test_the_schema_documents_the_bearer_scheme(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["components"]["securitySchemes"]["organisationToken"]["scheme"] == "bearer"
    assert "/api/v1/reports/batch/" in schema["paths"]
