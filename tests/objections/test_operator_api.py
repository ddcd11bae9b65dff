"""The operator's objection API (docs/objections.md sections 1 and 2): signed with the callback
secret, validated field by field, repeats recognised, and nothing stored from a request that
is refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from django.test import Client

from accounts import signing
from config.roles import Role
from moderation.models import AuditEvent, Objection, ObjectionAttachment, TakedownRequest
from moderation.objections import objection_decide
from tests.support.factories import UserFactory
from tests.support.intake import image_bytes
from tests.support.objections import carried_out, objected
from tests.support.takedowns import platform_for

URL = "/api/v1/operators/{slug}/objections/"


@pytest.fixture
def platform(db):
    return platform_for()


@pytest.fixture
def takedown(platform, moderator, supervisor):
    return carried_out(moderator=moderator, supervisor=supervisor, platform=platform)


def objection_json(takedown: TakedownRequest, **overrides) -> dict:
    body = {
        "objection_reference": "op-obj-123",
        "request_id": str(takedown.pk),
        "statement": "My shop sells batik; the number was a namesake's.",
        "contact": {"name": "Sari", "email": "sari@example.id", "phone": "+62 812 3456 7890"},
    }
    return body | overrides


def post(platform, payload, *, secret: str | None = None, now: float | None = None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = signing.signed_headers(secret or platform.callback_secret, body, now=now)
    return Client().post(
        URL.format(slug=platform.slug), data=body, content_type="application/json", headers=headers
    )


def get(platform, code: str, *, secret: str | None = None):
    headers = signing.signed_headers(secret or platform.callback_secret, b"")
    return Client().get(f"{URL.format(slug=platform.slug)}{code}/", headers=headers)


def picture(name: str = "shop.png", data: bytes | None = None) -> dict:
    content = image_bytes("PNG") if data is None else data
    return {"filename": name, "content_base64": base64.b64encode(content).decode()}


# --- who may send ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "age", "error"),
    [("forged-secret-0123456789abcdef", 0, "bad signature"), (None, 301, "stale timestamp")],
)
def test_a_bad_or_stale_signature_gets_401_and_changes_nothing(
    takedown, platform, secret, age, error
):
    events = AuditEvent.objects.count()
    response = post(platform, objection_json(takedown), secret=secret, now=time.time() - age)
    assert response.status_code == 401
    assert response.json() == {"error": error}
    assert Objection.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_deactivated_platform_gets_403_and_an_unknown_one_404(takedown, platform):
    unknown = Client().post(URL.format(slug="nosuch"), data=b"{}", content_type="application/json")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "unknown platform"}
    platform.active = False
    platform.save(update_fields=["active"])
    response = post(platform, objection_json(takedown))
    assert response.status_code == 403
    assert response.json() == {"error": "the platform is deactivated"}
    assert Objection.objects.count() == 0


def test_the_wrong_method_gets_405_with_allow(platform):
    response = Client().get(URL.format(slug=platform.slug))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    response = Client().post(f"{URL.format(slug=platform.slug)}KB-AAAA-BBBB/")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_a_body_over_12_mb_gets_413_and_changes_nothing(takedown, platform):
    payload = objection_json(takedown, statement="x" * (12 * 1024 * 1024))
    response = post(platform, payload)
    assert response.status_code == 413
    assert response.json()["error"]
    assert Objection.objects.count() == 0


# --- what is sent ------------------------------------------------------------------------


def test_invalid_fields_get_400_with_each_field_named(takedown, platform):
    payload = {
        "objection_reference": "r" * 101,
        "request_id": "not-a-uuid",
        "statement": "   ",
        "contact": {"email": "not an address", "phone": 62812},
        "attachments": [{"filename": "a.png"}, "no"],
    }
    response = post(platform, payload)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid objection",
        "fields": {
            "objection_reference": "at most 100 characters",
            "request_id": "must be the takedown request's UUID (its Idempotency-Key)",
            "statement": "required",
            "contact.email": "not an email address",
            "contact.phone": "must be a string",
            "attachments[0].content_base64": "required: the file's bytes in base64",
            "attachments[1]": 'must be an object: {"filename", "content_base64"}',
        },
    }
    assert Objection.objects.count() == 0


def test_missing_fields_too_many_attachments_and_a_long_statement_are_named(takedown, platform):
    response = post(platform, {"attachments": [picture()] * 6})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "objection_reference": "required",
        "request_id": "required",
        "statement": "required",
        "attachments": "at most 5 attachments",
    }
    too_long = objection_json(takedown, statement="x" * 10_001, contact="Sari")
    assert post(platform, too_long).json()["fields"] == {
        "statement": "at most 10,000 characters",
        "contact": 'must be an object: {"name", "email", "phone"}, each optional',
    }


def test_a_body_that_is_not_a_json_object_gets_400_in_the_same_shape(platform):
    for raw in (b"not json", b"[" * 100_000 + b"]" * 100_000):
        not_json = post(platform, None, raw=raw)
        assert not_json.status_code == 400
        assert not_json.json() == {"error": "invalid objection", "fields": {"body": "not JSON"}}
    response = post(platform, None, raw=b"[1, 2]")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid objection",
        "fields": {"body": "must be a JSON object"},
    }


def test_text_postgresql_cannot_store_is_a_400_not_a_500(takedown, platform):
    response = post(platform, objection_json(takedown, statement="nul \u0000 here"))
    assert response.status_code == 400
    assert response.json()["fields"] == {"statement": "must not contain NUL characters"}
    # A lone surrogate, which JSON can spell as \ud800 and UTF-8 cannot encode.
    response = post(platform, objection_json(takedown, statement="lone \ud800"))
    assert response.status_code == 400
    assert response.json()["fields"] == {"statement": "must be valid Unicode text"}


def test_a_bad_attachment_gets_400_naming_it_and_nothing_is_saved(takedown, platform):
    events = AuditEvent.objects.count()
    payload = objection_json(
        takedown, attachments=[picture(), picture("notes.png", b"this is not a picture")]
    )
    response = post(platform, payload)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert list(fields) == ["attachments[1]"]
    assert (
        "notes.png" in fields["attachments[1]"] and "JPEG, PNG or WebP" in fields["attachments[1]"]
    )
    broken = objection_json(takedown, attachments=[{"filename": "a.png", "content_base64": "%%"}])
    assert post(platform, broken).json()["fields"] == {
        "attachments[0].content_base64": "not valid base64"
    }
    assert Objection.objects.count() == 0
    assert ObjectionAttachment.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_attachments_are_checked_and_kept_re_encoded(takedown, platform):
    encoded = base64.b64encode(image_bytes("JPEG", exif=True)).decode()
    # As base64 tools print it, wrapped at 76 characters.
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    payload = objection_json(
        takedown, attachments=[{"filename": "shop.jpg", "content_base64": wrapped}]
    )
    response = post(platform, payload)
    assert response.status_code == 201
    (attachment,) = ObjectionAttachment.objects.all()
    assert attachment.original_name == "shop.jpg"
    assert attachment.content_type == "image/jpeg"
    with attachment.file.open("rb") as stored:
        assert b"SecretCam" not in stored.read()


# --- what is answered ------------------------------------------------------------------------


def test_an_objection_gets_201_and_the_same_body_again_200_repeat(takedown, platform):
    payload = objection_json(takedown)
    first = post(platform, payload)
    assert first.status_code == 201
    body = first.json()
    objection = Objection.objects.get()
    assert body == {
        "objection": objection.receipt_code,
        "objection_reference": "op-obj-123",
        "request_id": str(takedown.pk),
        "status": "received",
        "received_at": body["received_at"],
        "deadline": body["deadline"],
        "decided_at": None,
        "reason": "",
        "restore_request_id": None,
        "restore_status": None,
        "repeat": False,
    }
    assert body["received_at"].endswith("Z") and body["deadline"].endswith("Z")
    assert objection.source == "operator"
    assert (objection.contact_name, objection.contact_email) == ("Sari", "sari@example.id")
    # The same body, its keys in another order: recognised.
    reordered = json.dumps(dict(reversed(list(payload.items())))).encode()
    again = post(platform, None, raw=reordered)
    assert again.status_code == 200
    assert again.json() == body | {"repeat": True}
    assert Objection.objects.count() == 1
    event = AuditEvent.objects.get(action="objection.received")
    assert event.actor_label == f"operator:{platform.slug}"


def test_the_same_reference_with_a_different_body_gets_409_reference_reused(takedown, platform):
    assert post(platform, objection_json(takedown)).status_code == 201
    response = post(platform, objection_json(takedown, statement="Something else entirely."))
    assert response.status_code == 409
    assert response.json()["code"] == "reference_reused"
    assert response.json()["error"]
    objection = Objection.objects.get()
    assert objection.further_statements == []


def test_a_takedown_not_carried_out_gets_409_not_taken_down(takedown, platform):
    TakedownRequest.objects.filter(pk=takedown.pk).update(status="refused")
    response = post(platform, objection_json(takedown))
    assert response.status_code == 409
    assert response.json()["code"] == "not_taken_down"
    assert Objection.objects.count() == 0


def test_an_unknown_request_id_or_another_platforms_gets_404(takedown, platform):
    unknown = post(platform, objection_json(takedown, request_id=str(uuid.uuid4())))
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no takedown request with this request_id for this platform"}
    other = platform_for(slug="telegram")
    assert post(other, objection_json(takedown)).status_code == 404
    assert Objection.objects.count() == 0


def test_the_public_forms_objection_on_file_is_answered_200_repeat_and_the_statement_kept(
    takedown, platform
):
    on_file = objected(takedown, statement="Akun saya toko batik.")
    response = post(platform, objection_json(takedown))
    assert response.status_code == 200
    body = response.json()
    assert body["objection"] == on_file.receipt_code and body["repeat"] is True
    on_file.refresh_from_db()
    assert on_file.statement == "Akun saya toko batik."
    assert [s["text"] for s in on_file.further_statements] == [
        "My shop sells batik; the number was a namesake's."
    ]
    assert on_file.operator_reference == "op-obj-123"
    assert on_file.contact_email == "sari@example.id"
    assert Objection.objects.count() == 1


def test_an_objection_under_another_reference_is_answered_200_with_the_one_on_file(
    takedown, platform
):
    first = post(platform, objection_json(takedown)).json()
    other = objection_json(takedown, objection_reference="op-obj-456", statement="Still me.")
    response = post(platform, other)
    assert response.status_code == 200
    assert response.json() == first | {"repeat": True}
    objection = Objection.objects.get()
    assert [s["text"] for s in objection.further_statements] == ["Still me."]


def test_get_answers_the_outcome_after_a_decision(takedown, platform):
    code = post(platform, objection_json(takedown)).json()["objection"]
    before = get(platform, code)
    assert before.status_code == 200
    assert before.json()["status"] == "received" and "repeat" not in before.json()
    deciding = UserFactory(username="supervisor-fresh", roles=[Role.SUPERVISOR])
    objection = objection_decide(
        objection_id=Objection.objects.get().pk,
        supervisor=deciding,
        outcome="granted",
        reason="The number belongs to a batik shop.",
    )
    after = get(platform, code.lower()).json()
    restore = objection.restore_request
    assert after["status"] == "granted"
    assert after["reason"] == "The number belongs to a batik shop."
    assert after["decided_at"].endswith("Z")
    assert after["restore_request_id"] == str(restore.pk)
    assert after["restore_status"] == "pending"


def test_get_is_signed_and_sees_only_its_own_platforms_objections(takedown, platform):
    code = post(platform, objection_json(takedown)).json()["objection"]
    assert get(platform, code, secret="forged-secret-0123456789abcdef").status_code == 401
    other = platform_for(slug="telegram")
    assert get(other, code).status_code == 404
    assert get(platform, "KB-2222-3333").status_code == 404
