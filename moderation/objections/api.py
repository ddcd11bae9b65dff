"""The operator's side of objections (docs/objections.md sections 1 and 2): forwarding an
account owner's objection, and reading its outcome.

Not DRF, like the takedown callback (moderation/takedowns/api.py): the signature covers the
raw body, which must be read before any parsing, and the caller is authenticated by that
signature alone (no session, so no CSRF token). The answers are for machines, in English,
whatever language the caller's headers ask for.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from accounts import signing
from accounts.models import Platform
from config.http import client_ip
from config.metrics import objection_counted
from moderation.audit import Actor
from moderation.models import Objection, RestoreRequest, TakedownRequest
from moderation.objections.services import (
    MAX_ATTACHMENTS,
    MAX_STATEMENT,
    ObjectionInput,
    ObjectionRefused,
    objection_receive,
)
from reports.services.evidence import CheckedImage, EvidenceInvalid, evidence_check
from reports.services.intake import payload_hash  # the one canonical body hash, as for reports

MAX_BODY = 12 * 1024 * 1024
MAX_REFERENCE = 100
MAX_FILENAME = 255
# The objection's own column widths: longer contact details are refused, not cut short.
CONTACT_FIELDS = {
    "name": Objection._meta.get_field("contact_name").max_length,
    "email": Objection._meta.get_field("contact_email").max_length,
    "phone": Objection._meta.get_field("contact_phone").max_length,
}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def objection_body(objection: Objection, *, repeat: bool | None = None) -> dict[str, Any]:
    """The objection as the operator reads it (docs/objections.md): the POST's answer, with
    `repeat`, and the GET's, without."""
    restore = RestoreRequest.objects.filter(objection=objection).only("pk", "status").first()
    body: dict[str, Any] = {
        "objection": objection.receipt_code,
        "objection_reference": objection.operator_reference or None,
        "request_id": str(objection.takedown_id),
        "status": objection.status,
        "received_at": _iso(objection.received_at),
        "deadline": _iso(objection.deadline),
        "decided_at": _iso(objection.decided_at),
        "reason": objection.reason,
        "restore_request_id": str(restore.pk) if restore else None,
        "restore_status": restore.status if restore else None,
    }
    if repeat is not None:
        body["repeat"] = repeat
    return body


def _error(
    status: int, message: str, *, result: str, platform: str | None, **extra
) -> JsonResponse:
    objection_counted(platform=platform, result=result)
    return JsonResponse({"error": message, **extra}, status=status)


def _wrong_method(allowed: str) -> JsonResponse:
    response = _error(405, f"use {allowed}", result="wrong_method", platform=None)
    response["Allow"] = allowed
    return response


def _operator(request: HttpRequest, slug: str, body: bytes) -> Platform | JsonResponse:
    """The platform whose callback secret signed this request, or the refusal to answer."""
    platform = Platform.objects.filter(slug=slug).first()
    if platform is None:
        return _error(404, "unknown platform", result="unknown_platform", platform=None)
    problem = signing.verify(
        platform.callback_secret,
        timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
        signature=request.headers.get(signing.SIGNATURE_HEADER),
        body=body,
    )
    if problem:
        return _error(401, problem, result="bad_signature", platform=slug)
    if not platform.active:  # deactivated: its secrets may be why; nothing it says counts
        return _error(403, "the platform is deactivated", result="platform_inactive", platform=slug)
    return platform


@csrf_exempt
def operator_objections(request: HttpRequest, platform: str) -> JsonResponse:
    """POST: the operator forwards an account owner's objection."""
    if request.method != "POST":
        return _wrong_method("POST")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return _error(
            413, "body missing its length or over 12 MB", result="too_large", platform=None
        )
    try:
        body = request.body
    except RequestDataTooBig:  # DATA_UPLOAD_MAX_MEMORY_SIZE set below 12 MB
        return _error(413, "body too large", result="too_large", platform=None)
    with translation.override("en"):
        operator = _operator(request, platform, body)
        if isinstance(operator, JsonResponse):
            return operator
        try:
            item = _objection_input(body)
        except _Invalid as invalid:
            return _error(
                400, "invalid objection", result="invalid", platform=platform, fields=invalid.fields
            )
        return _receive(request, operator, item)


def _receive(request: HttpRequest, platform: Platform, item: ObjectionInput) -> JsonResponse:
    if not TakedownRequest.objects.filter(pk=item.takedown_id, platform=platform).exists():
        return _error(
            404,
            "no takedown request with this request_id for this platform",
            result="unknown_request",
            platform=platform.slug,
        )
    try:
        received = objection_receive(
            item=item, actor=Actor.operator(platform), ip_address=client_ip(request)
        )
    except ObjectionRefused as refused:
        if refused.code == "unknown_takedown":
            status, extra = 404, {}
        else:
            status, extra = 409, {"code": refused.code}
        return _error(status, str(refused), result=refused.code, platform=platform.slug, **extra)
    except IntegrityError:
        # The one race the takedown's row lock cannot serialise: the same new reference sent
        # for two takedowns at once. The database's unique constraint let one through.
        return _error(
            409,
            "This objection reference was already used for a different objection.",
            result="reference_reused",
            platform=platform.slug,
            code="reference_reused",
        )
    objection_counted(platform=platform.slug, result="received" if received.created else "repeat")
    return JsonResponse(
        objection_body(received.objection, repeat=not received.created),
        status=201 if received.created else 200,
    )


@csrf_exempt
def operator_objection(request: HttpRequest, platform: str, code: str) -> JsonResponse:
    """GET: the operator reads an objection's outcome, signed over the empty body."""
    if request.method != "GET":
        return _wrong_method("GET")
    with translation.override("en"):
        operator = _operator(request, platform, b"")
        if isinstance(operator, JsonResponse):
            return operator
        objection = Objection.objects.filter(
            platform=operator, receipt_code=code.strip().upper()
        ).first()
        if objection is None:
            return _error(
                404, "no such objection for this platform", result="unknown", platform=platform
            )
        objection_counted(platform=platform, result="read")
        return JsonResponse(objection_body(objection))


# --- the body ------------------------------------------------------------------------------


class _Invalid(ValueError):
    """The body is no objection: `fields` says what is wrong with each field (`body` when it
    is not a JSON object at all, so that every 400 has the contract's one shape)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid objection")
        self.fields = fields


def _text_problem(value: str) -> str:
    """Why a string cannot be stored as text (PostgreSQL refuses NUL; UTF-8 refuses lone
    surrogates, which JSON's \\u escapes can spell), or ""."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return ""


def _string(
    payload: dict, key: str, errors: dict[str, str], *, required: bool, limit: int, name: str = ""
) -> str:
    """payload[key] stripped, or "" with errors[name or key] saying why it will not do."""
    name = name or key
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        errors[name] = "must be a string"
        return ""
    text = (value or "").strip()
    if problem := _text_problem(text):
        errors[name] = problem
        return ""
    if not text:
        if required:
            errors[name] = "required"
        return ""
    if len(text) > limit:
        errors[name] = f"at most {limit:,} characters"
        return ""
    return text


def _objection_input(body: bytes) -> ObjectionInput:
    """The checked objection, or _Invalid. Attachments are checked and re-encoded here,
    before anything is stored, so that a bad one leaves nothing behind."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        raise _Invalid({"body": "not JSON"}) from None
    if not isinstance(payload, dict):
        raise _Invalid({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    reference = _string(payload, "objection_reference", errors, required=True, limit=MAX_REFERENCE)
    takedown_id = _request_id(payload.get("request_id"), errors)
    statement = _string(payload, "statement", errors, required=True, limit=MAX_STATEMENT)
    contact = _contact(payload.get("contact"), errors)
    images = _attachments(payload.get("attachments"), errors)
    if errors or takedown_id is None:
        raise _Invalid(errors)
    return ObjectionInput(
        takedown_id=takedown_id,
        source=Objection.Source.OPERATOR,
        statement=statement,
        contact_name=contact.get("name", ""),
        contact_email=contact.get("email", ""),
        contact_phone=contact.get("phone", ""),
        attachments=images,
        operator_reference=reference,
        payload_hash=payload_hash(payload),
    )


def _request_id(value: Any, errors: dict[str, str]) -> uuid.UUID | None:
    if value is None or value == "":
        errors["request_id"] = "required"
        return None
    try:
        return uuid.UUID(value if isinstance(value, str) else "")
    except ValueError:
        errors["request_id"] = "must be the takedown request's UUID (its Idempotency-Key)"
        return None


def _contact(value: Any, errors: dict[str, str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors["contact"] = 'must be an object: {"name", "email", "phone"}, each optional'
        return {}
    unknown = sorted(set(value) - set(CONTACT_FIELDS))
    if unknown:
        errors["contact"] = f"unknown field {unknown[0]!r}: contact takes name, email and phone"
    contact: dict[str, str] = {}
    for key, limit in CONTACT_FIELDS.items():
        name = f"contact.{key}"
        text = _string(value, key, errors, required=False, limit=limit, name=name)
        if text and key == "email":
            try:
                validate_email(text)
            except ValidationError:
                errors[name] = "not an email address"
                continue
        if text:
            contact[key] = text
    return contact


def _attachments(value: Any, errors: dict[str, str]) -> list[CheckedImage]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors["attachments"] = 'must be a list of {"filename", "content_base64"}'
        return []
    if len(value) > MAX_ATTACHMENTS:
        errors["attachments"] = f"at most {MAX_ATTACHMENTS} attachments"
        return []
    images = []
    for number, attachment in enumerate(value):
        key = f"attachments[{number}]"
        if not isinstance(attachment, dict):
            errors[key] = 'must be an object: {"filename", "content_base64"}'
            continue
        filename = _string(
            attachment,
            "filename",
            errors,
            required=True,
            limit=MAX_FILENAME,
            name=f"{key}.filename",
        )
        encoded = attachment.get("content_base64")
        if not isinstance(encoded, str) or not encoded.strip():
            errors[f"{key}.content_base64"] = "required: the file's bytes in base64"
            continue
        try:  # line breaks, as base64 tools wrap their output, are no error
            data = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            errors[f"{key}.content_base64"] = "not valid base64"
            continue
        if not filename:
            continue
        try:
            images.append(evidence_check(SimpleUploadedFile(filename, data)))
        except EvidenceInvalid as refused:
            errors[key] = str(refused)
    return images


urlpatterns = [
    path(
        "operators/<slug:platform>/objections/",
        operator_objections,
        name="operator-objections",
    ),
    path(
        "operators/<slug:platform>/objections/<str:code>/",
        operator_objection,
        name="operator-objection",
    ),
]
