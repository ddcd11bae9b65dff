"""The console's rough edges (issue 16): what a signed-out htmx request, the error pages, an
evidence picture opened in a tab, the favicon, dates and numbers, priority reasons, history
labels, the audit trail's data, CSV contact lists, chart ticks and the receipt page do."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from config.views import server_error
from moderation.audit import Actor, action_label, audit_record
from moderation.audit.services.exports import _contacts_text
from moderation.cases.priority import case_priority
from moderation.dashboard.charts import _ticks
from moderation.templatetags.saring_dashboard import percent
from tests.support.factories import CaseFactory, ReportFactory
from tests.support.intake import make_evidence

pytestmark = pytest.mark.django_db

INDONESIAN = {"HTTP_ACCEPT_LANGUAGE": "id"}


# --- A signed-out htmx request is sent to sign in as a whole page ------------------------


def test_a_signed_out_htmx_request_gets_hx_redirect_to_sign_in_not_the_login_page():
    response = Client().get("/queue/?category=fraud", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/queue/%3Fcategory%3Dfraud"
    assert response.content == b""


def test_after_signing_in_again_the_person_returns_to_the_page_not_the_partial():
    response = Client().get(
        "/queue/counts/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/queue/?category=fraud",
    )
    assert response["HX-Redirect"] == "/login/?next=/queue/%3Fcategory%3Dfraud"


def test_a_current_url_on_another_site_is_not_where_sign_in_leads():
    response = Client().get(
        "/queue/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/x"
    )
    assert response["HX-Redirect"] == "/login/?next=/queue/"


def test_a_signed_out_plain_request_still_gets_the_redirect():
    response = Client().get("/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert "HX-Redirect" not in response


def test_an_htmx_request_of_a_signed_in_person_is_answered_as_before(moderator, client_for):
    response = client_for(moderator).get("/queue/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Redirect" not in response


# --- Error pages --------------------------------------------------------------------------


def test_the_403_page_is_translated_and_leads_back_home(moderator, client_for):
    response = client_for(moderator).get("/audit/", **INDONESIAN)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Tidak diizinkan" in html
    assert "Not allowed" not in html
    assert 'href="/"' in html and "Ke halaman awal Anda" in html
    assert "saring.css" not in html or 'class="topbar"' in html  # the site's own layout


def test_the_404_page_is_the_sites_with_the_way_to_sign_in():
    response = Client().get("/no-such-page/", **INDONESIAN)
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert "Halaman tidak ditemukan" in html
    assert 'href="/login/"' in html


def test_the_400_page_is_the_sites_translated_with_the_way_back():
    response = Client().get("/login/", HTTP_HOST="not-ours.example", **INDONESIAN)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert "Permintaan tidak valid" in html and "Bad request" not in html


def test_the_500_page_renders_without_asking_the_database():
    request = RequestFactory().get("/queue/")
    with translation.override("id"), CaptureQueriesContext(connection) as queries:
        response = server_error(request)
    assert response.status_code == 500
    assert len(queries) == 0
    html = response.content.decode()
    assert "Terjadi kesalahan" in html
    assert 'href="/"' in html and 'href="/login/"' in html
    assert "saring" in html and ".css" in html


# --- Evidence opened in a tab, and the favicon ------------------------------------------


def test_evidence_opened_in_a_tab_is_a_page_of_ours_whose_picture_is_the_bytes(
    moderator, client_for
):
    evidence = make_evidence()
    client = client_for(moderator)
    url = f"/evidence/{evidence.pk}/"
    page = client.get(url, HTTP_SEC_FETCH_DEST="document")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert f'<img src="{url}"' in page.content.decode()
    picture = client.get(url, HTTP_SEC_FETCH_DEST="image")
    assert picture["Content-Type"] == "image/png"
    assert picture["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(picture.streaming_content).startswith(b"\x89PNG")


def test_favicon_ico_answers_with_the_sites_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert re.search(r"/static/favicon\.[0-9a-f]+\.svg$", response["Location"])


# --- One date and number format per language -------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "3 Dec 2026 19:14"), ("id", "3 Des 2026 19:14")]
)
def test_a_moment_is_written_the_same_way_on_every_page(language, expected):
    moment = timezone.localtime(dt.datetime(2026, 12, 3, 12, 14, tzinfo=dt.UTC))
    with translation.override(language):
        assert date_format(moment, "DATETIME_FORMAT") == expected


@pytest.mark.parametrize(
    ("language", "expected"), [("en", ["52.7 %", "100.0 %"]), ("id", ["52,7 %", "100,0 %"])]
)
def test_shares_use_the_languages_decimal_separator(language, expected):
    with translation.override(language):
        assert [percent(52.7), percent(100.0)] == expected


# --- Every user-facing label translated -------------------------------------------------


def test_priority_reasons_are_read_in_the_pages_language():
    now = timezone.now()
    _score, parts = case_priority(
        category="terrorism",
        source_kinds={"police"},
        reporter_count=2,
        urgent=False,
        opened_at=now - dt.timedelta(days=1.5),
        now=now,
    )
    with translation.override("id"):
        labels = [str(part.label) for part in parts]
    assert "Kategori: Terorisme" in labels
    assert "Menunggu 1,5 hari" in labels
    with translation.override("en"):
        assert "Waiting 1.5 days" in [str(part.label) for part in parts]


def test_a_case_history_shows_what_happened_in_words_not_codes(moderator, client_for):
    case = CaseFactory()
    ReportFactory(case=case, account=case.account)
    audit_record(actor=Actor.staff(moderator), action="case.claimed", subject=case)
    html = client_for(moderator).get(f"/cases/{case.pk}/", **INDONESIAN).content.decode()
    assert "Sudah diambil" in html
    assert "case.claimed" not in html


def test_every_action_the_code_records_has_a_readable_label():
    """Every audit action code written in the code (action="…", the admin's `audit_action`
    with .created/.changed, the decision outcomes) is in ACTION_LABELS."""
    from pathlib import Path

    from moderation.audit.actions import ACTION_LABELS
    from moderation.models import Decision

    root = Path(__file__).resolve().parents[2]
    codes: set[str] = set()
    for app in ("accounts", "config", "moderation", "reports", "signin"):
        for path in (root / app).rglob("*.py"):
            text = path.read_text()
            codes |= set(re.findall(r'action="([a-z_0-9]+\.[a-z_0-9]+)"', text))
            for prefix in re.findall(r'audit_action = "([a-z_]+)"', text):
                codes |= {f"{prefix}.created", f"{prefix}.changed"}
    codes |= {f"decision.{outcome}" for outcome in Decision.Outcome.values}
    assert len(codes) > 40  # the scan found the code's actions
    assert sorted(codes - set(ACTION_LABELS)) == []


def test_an_action_without_a_label_is_shown_as_its_code():
    assert action_label("case.something_new") == "case.something_new"


def test_the_audit_trail_shows_event_data_as_json(auditor, client_for):
    audit_record(
        actor=Actor.system(), action="test.json", subject_label="x", data={"ok": True, "n": None}
    )
    html = client_for(auditor).get("/audit/trail/?action=test.json").content.decode()
    assert "{&quot;n&quot;: null, &quot;ok&quot;: true}" in html
    assert "&#x27;ok&#x27;: True" not in html


def test_a_csv_reporter_list_has_no_empty_parts():
    contacts = [
        {"name": "", "email": "", "phone": ""},
        {"name": "Budi", "email": "", "phone": ""},
        {"name": " ", "email": "a@example.id", "phone": ""},
    ]
    assert _contacts_text(contacts) == "Budi; <a@example.id>"


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (25, [0, 5, 10, 15, 20, 25]),
        (19, [0, 5, 10, 15, 20]),
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (120, [0, 50, 100, 150]),
    ],
)
def test_chart_axis_ticks_are_round_numbers(maximum, ticks):
    assert _ticks(maximum) == ticks


def test_the_receipt_page_names_the_status_and_the_report_date_differently():
    report = ReportFactory()
    html = Client().get(f"/report/status/{report.receipt_code}", **INDONESIAN).content.decode()
    assert "Tanggal laporan" in html
    assert html.count("Diterima") <= 1
