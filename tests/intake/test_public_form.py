from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from moderation.models import AuditEvent
from reports.models import Evidence, Report
from tests.support.intake import form_data, image_bytes, michat, solved

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _easy_captcha(settings):
    settings.ALTCHA_MAX_NUMBER = 500
    cache.clear()


def test_the_form_shows_in_english_and_bahasa_indonesia():
    michat()
    english = Client().get("/report/")
    assert english.status_code == 200 and b"Report a chat account" in english.content
    assert b"<script>" not in english.content and b" style=" not in english.content
    client = Client()
    client.post("/i18n/setlang/", {"language": "id", "next": "/report/"})
    assert client.get("/report/").status_code == 200


def test_it_receives_a_public_report_with_screenshots_and_shows_the_receipt():
    client = Client()
    shots = [
        SimpleUploadedFile("a.jpg", image_bytes("JPEG", exif=True), "image/jpeg"),
        SimpleUploadedFile("b.png", image_bytes("PNG"), "image/png"),
        SimpleUploadedFile("c.webp", image_bytes("WEBP"), "image/webp"),
    ]
    data = form_data(
        client,
        screenshots=shots,
        reporter_name="Warga Baik",
        reporter_email="warga@example.id",
        consent="on",
    )
    response = client.post("/report/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    report = Report.objects.get()
    assert response["Location"] == f"/report/status/{report.receipt_code}?new=1"
    assert report.source_kind == "public" and report.organisation is None
    assert report.reporter_email == "warga@example.id" and report.reporter_consent
    assert report.account.identifier == "+6281234567890"
    kinds = sorted(Evidence.objects.values_list("content_type", flat=True))
    assert kinds == ["image/jpeg", "image/png", "image/webp"]
    for evidence in Evidence.objects.all():
        assert b"SecretCam" not in evidence.file.open("rb").read()
    assert AuditEvent.objects.filter(action="report.received", actor_kind="public").count() == 1
    assert AuditEvent.objects.filter(action="evidence.added").count() == 3
    page = client.get(response["Location"])
    assert report.receipt_code.encode() in page.content and b"Received" in page.content


def test_it_refuses_a_submission_without_a_solved_challenge():
    client = Client()
    response = client.post("/report/", form_data(client, altcha=""))
    assert response.status_code == 200 and b"anti-robot" in response.content
    data = form_data(client)
    assert client.post("/report/", data).status_code == 302
    # The same solution again is refused: each solved challenge counts once.
    data["account"] = "@another_account"
    assert client.post("/report/", data).status_code == 200
    assert Report.objects.count() == 1


def test_it_limits_submissions_per_address(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 2
    client = Client()
    codes = [
        client.post("/report/", form_data(client, account=f"@akun{i}")).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]


def _bomb() -> bytes:
    """A few hundred kilobytes of PNG that decode to 900 megapixels."""
    import io

    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_unsolved_posts_decode_no_picture_and_do_not_count_toward_the_limit(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 2
    client = Client()
    bomb = _bomb()
    for _ in range(5):
        shot = SimpleUploadedFile("bomb.png", bomb, "image/png")
        response = client.post("/report/", form_data(client, altcha="", screenshots=[shot]))
        assert response.status_code == 200 and b"anti-robot" in response.content
        assert b"pixels" not in response.content  # the picture was never opened
    codes = [
        client.post("/report/", form_data(client, account=f"@akun{i}")).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]


def test_a_solution_replayed_after_a_refused_form_opens_no_picture():
    client = Client()
    data = form_data(client, account="")  # missing account: the form is refused
    shot = SimpleUploadedFile("bomb.png", _bomb(), "image/png")
    first = client.post("/report/", {**data, "screenshots": [shot]})
    assert first.status_code == 200 and b"pixels" in first.content  # opened, once
    assert b'name="altcha" value=""' in first.content or b'name="altcha">' in first.content
    shot = SimpleUploadedFile("bomb.png", _bomb(), "image/png")
    again = client.post("/report/", {**data, "screenshots": [shot]})
    assert again.status_code == 200 and b"anti-robot" in again.content
    assert b"pixels" not in again.content


@pytest.mark.parametrize(
    "payload",
    [
        # {"algorithm": "SHA-256", "salt": 1, …}: the altcha library itself raises on it
        "eyJhbGdvcml0aG0iOiAiU0hBLTI1NiIsICJzYWx0IjogMSwgImNoYWxsZW5nZSI6ICJ4IiwgIm51bWJlciI6IDEsICJzaWduYXR1cmUiOiAieCJ9",
        "bm90IGpzb24=",
        "%%%",
    ],
)
def test_a_crafted_proof_of_work_is_refused_not_a_500(payload):
    client = Client()
    response = client.post("/report/", form_data(client, altcha=payload))
    assert response.status_code == 200 and b"anti-robot" in response.content


def test_a_refused_submission_does_not_count_against_its_sender(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 1
    client = Client()
    shot = SimpleUploadedFile("fake.jpg", b"MZ\x90\x00 an exe", "image/jpeg")
    response = client.post("/report/", form_data(client, screenshots=[shot]))
    assert response.status_code == 200 and b"not an image" in response.content
    assert client.post("/report/", form_data(client)).status_code == 302
    assert client.post("/report/", form_data(client, account="@akun2")).status_code == 429


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.jpg", b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024), b"at most 5 MB"),
        ("fake.jpg", b"MZ\x90\x00 this is an exe renamed", b"not an image"),
        ("page.jpg", b"<html><script>alert(1)</script></html>", b"not an image"),
        ("anim.gif", None, b"only JPEG, PNG and WebP"),
    ],
)
def test_it_refuses_bad_uploads(name, content, message):
    if content is None:
        content = image_bytes("GIF")
    client = Client()
    shot = SimpleUploadedFile(name, content, "image/jpeg")
    response = client.post("/report/", form_data(client, screenshots=[shot]))
    assert response.status_code == 200
    assert message in response.content
    assert Report.objects.count() == 0 and Evidence.objects.count() == 0


def test_it_refuses_an_image_bomb():
    # 30000 × 30000 pixels of one colour: a few hundred kilobytes of PNG, 900 megapixels.
    import io

    image = Image.new("1", (30000, 30000))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 5 * 1024 * 1024
    client = Client()
    shot = SimpleUploadedFile("bomb.png", out.getvalue(), "image/png")
    response = client.post("/report/", form_data(client, screenshots=[shot]))
    assert response.status_code == 200 and b"pixels" in response.content
    assert Report.objects.count() == 0


def test_it_refuses_more_than_five_screenshots():
    client = Client()
    shots = [SimpleUploadedFile(f"{i}.png", image_bytes("PNG"), "image/png") for i in range(6)]
    response = client.post("/report/", form_data(client, screenshots=shots))
    assert b"At most 5 screenshots" in response.content
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("override", "field_text"),
    [
        ({"account": "@@@"}, b"cannot read an account"),
        ({"account": "https://evil.example/profile/x"}, b"cannot read an account"),
        ({"description": ""}, b"This field is required"),
        ({"description": "x" * 10_001}, b"at most 10000 characters"),
        ({"category": "jaywalking"}, b"Select a valid choice"),
        ({"reporter_email": "warga@example.id"}, b"agree to be contacted"),
    ],
)
def test_it_explains_bad_fields(override, field_text):
    client = Client()
    response = client.post("/report/", form_data(client, **override))
    assert response.status_code == 200
    assert field_text in response.content, response.content.decode()[-3000:]
    assert Report.objects.count() == 0


def test_html_in_every_field_is_stored_as_text_and_shown_escaped(client_for, supervisor):
    script = "<script>alert('x')</script>"
    client = Client()
    data = form_data(
        client,
        account="bella" + script,
        description=script,
        reporter_name=script,
        reporter_phone=script[:40],
        consent="on",
    )
    response = client.post("/report/", data)
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.description == script and report.reporter_name == script
    # The reporter's own page never shows what was sent; and a bad form echoes it escaped.
    page = client.get(response["Location"])
    assert script.encode() not in page.content
    again = client.post("/report/", {**data, "category": "nope", "altcha": solved(client)})
    assert script.encode() not in again.content
    assert b"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in again.content


def test_the_status_page_shows_only_four_words():
    client = Client()
    client.post("/report/", form_data(client))
    report = Report.objects.get()
    for status, word in [
        ("open", b"Received"),
        ("in_review", b"In review"),
        ("escalated", b"In review"),
        ("approved", b"Action taken"),
        ("dismissed", b"Closed"),
    ]:
        report.case.status = status
        report.case.save(update_fields=["status"])
        page = Client().get(f"/report/status/{report.receipt_code}")
        assert page.status_code == 200 and word in page.content
        assert b"escalated" not in page.content.lower()
    assert Client().get("/report/status/SR-XXXX-XXXX").status_code == 404
    lookup = Client().get("/report/status/", {"code": report.receipt_code.lower()})
    assert lookup["Location"] == f"/report/status/{report.receipt_code}"


@pytest.mark.parametrize("code", ["a/b", "../admin", "SR-<b>", "SR 7KQ4"])
def test_a_status_lookup_with_characters_no_receipt_has_is_a_404_not_a_500(db, code):
    page = Client().get("/report/status/", {"code": code})
    assert page.status_code == 404
    assert "reports/public_status.html" in [t.name for t in page.templates]


def _public_report(client: Client, **fields) -> Report:
    response = client.post("/report/", form_data(client, **fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Report.objects.order_by("-pk").first()


def test_public_reporters_count_once_each_and_at_most_three_per_case(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 100
    client = Client()
    for email in ["sari@example.id", "SARI@example.id", "sari@example.id"]:
        report = _public_report(client, reporter_email=email, consent="on")
    assert report.case.reporter_count == 1  # one person, however often
    for email in ["budi@example.id", "ani@example.id", "dewi@example.id", "eko@example.id"]:
        report = _public_report(client, reporter_email=email, consent="on")
    case = report.case
    assert (case.report_count, case.reporter_count) == (7, 3)  # five people, three counted


def test_anonymous_public_reports_from_one_address_are_one_reporter(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 100
    one, other = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.9")
    _public_report(one)
    _public_report(one, description="Lagi, akun yang sama.")
    report = _public_report(other)
    assert report.case.reporter_count == 2
    assert len(report.reporter_key) == 32 and "198.51" not in report.reporter_key


def test_a_public_report_of_csam_does_not_make_the_case_urgent_on_its_own(settings, police_token):
    import json

    from tests.support.intake import report_body

    settings.PUBLIC_REPORT_RATE_PER_HOUR = 100
    report = _public_report(Client(), category="child_sexual_abuse")
    case = report.case
    assert case.category == "child_sexual_abuse" and not case.urgent
    _org, token = police_token  # the same account, reported by the police
    response = Client().post(
        "/api/v1/reports/",
        data=json.dumps(report_body("POLRI-1", category="child_sexual_abuse")),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content
    case.refresh_from_db()
    assert response.json()["case"] == case.pk and case.urgent
