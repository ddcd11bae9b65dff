"""The public objection form and its status page (issue 18): an owner objects without
signing in, with the report form's proof of work, limit and upload rules; nothing typed is
lost to a refusal; the form tells nobody which takedowns exist; a repeat lands on the
objection on file; the status page tells the outcome and nothing more."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from config.roles import Role
from moderation.models import AuditEvent, Objection, ObjectionAttachment, TakedownRequest
from moderation.objections import objection_decide
from tests.support.factories import UserFactory
from tests.support.intake import form_data, image_bytes, solved
from tests.support.objections import carried_out, objected
from tests.support.takedowns import callback, platform_for

pytestmark = pytest.mark.django_db

STATEMENT = "Toko batik saya di Solo, bukan judi. Nomor ini untuk pesanan kain."
NO_SUCH_TAKEDOWN = b"We found no takedown with this reference for this account on this platform"
FILES_NOT_KEPT = b"a browser cannot keep files after an error"


@pytest.fixture(autouse=True)
def _easy_captcha(settings):
    settings.ALTCHA_MAX_NUMBER = 500
    cache.clear()


@pytest.fixture
def takedown(db, moderator, supervisor):
    return carried_out(moderator=moderator, supervisor=supervisor, platform=platform_for())


@pytest.fixture
def third_supervisor(db):
    return UserFactory(username="supervisor3", roles=[Role.SUPERVISOR])


def objection_data(client: Client, takedown: TakedownRequest, **overrides) -> dict:
    data = {
        "platform": takedown.platform_id,
        "reference": str(takedown.pk),
        "account": takedown.account.identifier,
        "statement": STATEMENT,
        "altcha": solved(client),
    }
    data.update(overrides)
    return data


def wib(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y H:i") + " WIB"


def error_block(response) -> str:
    """The form's own errors (the box above the form), as shown."""
    match = re.search(r'<div class="error" role="alert">(.*?)</div>', response.content.decode())
    assert match, response.content.decode()[-3000:]
    return match.group(1)


def test_it_receives_an_objection_with_a_picture_and_shows_it_awaiting_decision(takedown):
    client = Client()
    picture = SimpleUploadedFile("shop.png", image_bytes("PNG"), "image/png")
    data = objection_data(
        client,
        takedown,
        reference=takedown.pk.hex.upper(),  # as a platform may show it: no hyphens, capitals
        account="@" + takedown.account.identifier.upper(),
        attachments=[picture],
        contact_email="pemilik@example.id",
    )
    response = client.post("/objection/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    objection = Objection.objects.get()
    assert response["Location"] == f"/objection/status/{objection.receipt_code}?new=1"
    assert objection.takedown_id == takedown.pk and objection.source == "public"
    assert objection.statement == STATEMENT and objection.contact_email == "pemilik@example.id"
    assert list(ObjectionAttachment.objects.values_list("content_type", flat=True)) == ["image/png"]
    assert AuditEvent.objects.filter(action="objection.received", actor_kind="public").exists()
    page = client.get(response["Location"])
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert objection.receipt_code in html and "Thank you, your objection was received" in html
    assert "Awaiting decision" in html
    assert wib(objection.received_at) in html and wib(objection.deadline) in html
    assert STATEMENT not in html and "pemilik@example.id" not in html


def test_the_operators_own_reference_names_the_takedown_too(takedown):
    TakedownRequest.objects.filter(pk=takedown.pk).update(operator_reference="MC-2026-0042")
    client = Client()
    response = client.post(
        "/objection/", objection_data(client, takedown, reference="MC-2026-0042")
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Objection.objects.get().takedown_id == takedown.pk


def test_an_unsolved_proof_of_work_keeps_what_was_typed_and_saves_nothing(takedown):
    client = Client()
    picture = SimpleUploadedFile("shop.png", image_bytes("PNG"), "image/png")
    data = objection_data(
        client, takedown, altcha="", attachments=[picture], contact_email="pemilik@example.id"
    )
    response = client.post("/objection/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "anti-robot check did not finish" in html
    assert f'value="{takedown.pk}"' in html and f"{STATEMENT}</textarea>" in html
    assert 'value="pemilik@example.id"' in html
    assert FILES_NOT_KEPT in response.content  # next to the pictures field
    assert Objection.objects.count() == 0 and ObjectionAttachment.objects.count() == 0


def test_a_bad_upload_keeps_what_was_typed_and_saves_nothing(takedown):
    client = Client()
    text = SimpleUploadedFile("shop.jpg", b"just a note, not a picture at all", "image/jpeg")
    response = client.post("/objection/", objection_data(client, takedown, attachments=[text]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "shop.jpg: not an image we can read" in html
    assert FILES_NOT_KEPT in response.content
    assert f'value="{takedown.pk}"' in html and f"{STATEMENT}</textarea>" in html
    assert 'name="altcha" value=""' in html  # the used-up proof of work is not sent back
    assert Objection.objects.count() == 0 and ObjectionAttachment.objects.count() == 0


def test_a_wrong_account_and_an_unknown_reference_get_the_same_message(takedown):
    TakedownRequest.objects.filter(pk=takedown.pk).update(operator_reference="MC-2026-0042")
    client = Client()
    attempts = [
        {"account": "@someone_else"},  # the right takedown, another account
        {"reference": str(uuid.uuid4())},  # no such takedown
        {"reference": "MC-2026-9999"},  # no such operator reference
        {"reference": "MC-2026-0042", "account": "0812-3456-7890"},
    ]
    errors = []
    for override in attempts:
        response = client.post("/objection/", objection_data(client, takedown, **override))
        assert response.status_code == 200 and NO_SUCH_TAKEDOWN in response.content
        errors.append(error_block(response))
    assert len(set(errors)) == 1
    assert Objection.objects.count() == 0


def test_a_takedown_not_carried_out_gets_its_message(takedown):
    TakedownRequest.objects.filter(pk=takedown.pk).update(status=TakedownRequest.Status.REFUSED)
    client = Client()
    response = client.post("/objection/", objection_data(client, takedown))
    assert response.status_code == 200
    assert "This takedown was not carried out (it is refused)" in error_block(response)
    assert Objection.objects.count() == 0


def test_a_repeat_is_recognised_and_lands_on_the_same_receipt(takedown):
    client = Client()
    first = client.post("/objection/", objection_data(client, takedown))
    objection = Objection.objects.get()
    assert first["Location"] == f"/objection/status/{objection.receipt_code}?new=1"

    again = client.post("/objection/", objection_data(client, takedown))
    assert again.status_code == 302
    assert again["Location"] == f"/objection/status/{objection.receipt_code}"
    page = client.get(again["Location"]).content.decode()
    assert "already on file" in page and "added to it" not in page

    more = "Saya lampirkan izin usaha saya juga."
    added = client.post("/objection/", objection_data(client, takedown, statement=more))
    assert added["Location"] == f"/objection/status/{objection.receipt_code}"
    assert "added to it" in client.get(added["Location"]).content.decode()
    objection.refresh_from_db()
    assert [entry["text"] for entry in objection.further_statements] == [more]
    assert Objection.objects.count() == 1


def test_an_objection_the_operator_forwarded_is_the_one_the_form_lands_on(takedown):
    forwarded = objected(takedown, reference="op-obj-123")
    client = Client()
    response = client.post("/objection/", objection_data(client, takedown))
    assert response["Location"] == f"/objection/status/{forwarded.receipt_code}"
    assert Objection.objects.count() == 1


def test_an_upheld_objection_shows_the_supervisors_reason_and_nothing_more(
    takedown, third_supervisor
):
    objection = objected(takedown)
    reason = "The profile offered gambling deposits on 3 December; the takedown stands."
    objection_decide(
        objection_id=objection.pk, supervisor=third_supervisor, outcome="upheld", reason=reason
    )
    html = Client().get(f"/objection/status/{objection.receipt_code}").content.decode()
    assert "Upheld: the takedown stands" in html and reason in html
    assert "My shop sells batik only." not in html  # the statement
    assert third_supervisor.username not in html  # who decided
    assert "Restoration" not in html


def test_a_granted_objection_shows_the_reason_and_then_the_restoration(takedown, third_supervisor):
    objection = objected(takedown)
    reason = "The number belongs to a batik shop; the reports named another account."
    objection_decide(
        objection_id=objection.pk, supervisor=third_supervisor, outcome="granted", reason=reason
    )
    status_page = f"/objection/status/{objection.receipt_code}"
    html = Client().get(status_page).content.decode()
    assert "Granted" in html and reason in html
    assert "Restoration requested from the platform." in html

    restore = objection.restore_request
    confirmed = callback(
        takedown.platform,
        {
            "request_id": str(restore.pk),
            "status": "restored",
            "reason": "",
            "actioned_at": timezone.now().isoformat(),
        },
    )
    assert confirmed.status_code == 200, confirmed.content
    restore.refresh_from_db()
    html = Client().get(status_page).content.decode()
    assert f"Restored by the platform on {wib(restore.resolved_at)}." in html
    assert "Restoration requested" not in html


def test_the_status_lookup_finds_a_code_and_refuses_unknown_ones(takedown):
    objection = objected(takedown)
    lookup = Client().get("/objection/status/", {"code": objection.receipt_code.lower()})
    assert lookup["Location"] == f"/objection/status/{objection.receipt_code}"
    unknown = Client().get("/objection/status/KB-XXXX-XXXX")
    assert unknown.status_code == 404 and b"No objection has this receipt code" in unknown.content
    for code in ["a/b", "KB-<b>", "../admin"]:
        assert Client().get("/objection/status/", {"code": code}).status_code == 404


def test_it_limits_objections_per_address_apart_from_reports(takedown, settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 1
    client = Client()
    # An unknown reference counts too: guessing costs a proof of work each, and the limit.
    unknown = objection_data(client, takedown, reference="MC-0000")
    assert client.post("/objection/", unknown).status_code == 200
    assert client.post("/objection/", objection_data(client, takedown)).status_code == 429
    assert Objection.objects.count() == 0
    assert client.post("/report/", form_data(client)).status_code == 302  # its own limit


def test_the_pages_show_indonesian_labels(takedown):
    indonesian = {"HTTP_ACCEPT_LANGUAGE": "id"}
    form = Client().get("/objection/", **indonesian).content.decode()
    assert 'lang="id"' in form
    assert "Referensi penurunan" in form and "Keberatan Anda" in form
    assert "Takedown reference" not in form and "Your objection" not in form
    objection = objected(takedown)
    client = Client()
    client.post("/i18n/setlang/", {"language": "id", "next": "/objection/"})  # the cookie
    status = client.get(f"/objection/status/{objection.receipt_code}").content.decode()
    assert "Menunggu keputusan" in status and "Awaiting decision" not in status


def test_logs_and_error_reports_do_not_carry_an_objections_receipt_code():
    from config.logs import path_for_logs

    assert path_for_logs("/objection/status/KB-7Q2M-X4PD?new=1") == "/objection/status/…"
