"""Fixtures' helpers for the intake tests (issue 3)."""

from __future__ import annotations

import io

from PIL import Image

from tests.factories import PlatformFactory, SourceOrganisationFactory

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
