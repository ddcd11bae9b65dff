"""Helpers for intake (issue 3): the MiChat platform, source organisations, API report bodies,
images, stored evidence and API tokens."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets

import altcha
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from reports.models import ApiToken, Evidence
from tests.support.factories import PlatformFactory, ReportFactory, SourceOrganisationFactory

MICHAT_PATTERN = r"michat\.(?:com|id)/(?:u/|profile/)?@?([A-Za-z0-9_.]+)"


def michat():
    platform = PlatformFactory(slug="michat", name="MiChat")
    if platform.profile_url_pattern != MICHAT_PATTERN:
        platform.profile_url_pattern = MICHAT_PATTERN
        platform.save(update_fields=["profile_url_pattern"])
    return platform


def organisation(slug: str = "kominfo", kind: str = "ministry"):
    return SourceOrganisationFactory(slug=slug, kind=kind, name=slug.upper())


def report_body(ref: str = "EXT-1", **overrides) -> dict:
    body = {
        "external_reference": ref,
        "platform": "michat",
        "account": {"identifier": "0812-3456-7890", "display_name": "Bella BO"},
        "category": "prostitution",
        "description": "Open BO, tarif di profil.",
    }
    body.update(overrides)
    return body


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {1: "S", 2: (1.0, 2.0, 3.0)}  # GPS
        image.save(out, fmt, exif=data)
    else:
        image.save(out, fmt)
    return out.getvalue()


# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_evidence(content: bytes = PNG, content_type: str = "image/png") -> Evidence:
    """Evidence stored with a report of its own, as intake stores it (no re-encoding)."""
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


def api_token_for(organisation) -> str:
    """Issue a token to the organisation, stored as the intake API stores them (only the
    SHA-256 of the token), and return the token itself."""
    raw = "sar_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        organisation=organisation,
        label="test",
        prefix=raw[:12],
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )
    return raw


# --- The public form: a challenge solved as the browser's script solves it ------------------


def solved(client: Client) -> str:
    """Fetch a challenge from the page's endpoint and solve it, as the browser script does."""
    challenge = client.get("/report/challenge/").json()
    solution = altcha.v1.solve_challenge(
        challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxNumber"]
    )
    payload = {
        "algorithm": "SHA-256",
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def form_data(client: Client, **overrides) -> dict:
    platform = michat()
    data = {
        "platform": platform.pk,
        "account": "0812-3456-7890",
        "category": "prostitution",
        "description": "Open BO di profil.",
        "altcha": solved(client),
    }
    data.update(overrides)
    return data
