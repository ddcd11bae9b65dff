"""Evidence files: screenshots checked from their bytes, re-encoded without metadata, kept
in private storage with their SHA-256 (DESIGN.md "Evidence")."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from moderation.audit import Actor, audit_record
from reports.models import IMAGE_FORMATS, Evidence, Report, SourceOrganisation
from reports.services.pictures import picture_hash_enqueue

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
# About 40 megapixels: larger than any phone screenshot, far smaller than a decompression
# bomb. Checked from the header, before a single pixel is decoded.
MAX_PIXELS = 40_000_000
FORMATS = IMAGE_FORMATS


class EvidenceInvalid(ValueError):
    pass


@dataclass(frozen=True)
class CheckedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    original_name: str
    original_sha256: str  # of the bytes exactly as received (chain of custody)
    original_size: int


def evidence_check(upload: UploadedFile) -> CheckedImage:
    """Read an upload (a Django UploadedFile) and return it re-encoded, or raise
    EvidenceInvalid with a message for the person who sent it."""
    if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
        raise EvidenceInvalid(
            _("%(name)s: the file is %(size).1f MB; at most 5 MB.")
            % {"name": upload.name, "size": upload.size / 1048576}
        )
    upload.seek(0)
    data = upload.read(MAX_EVIDENCE_BYTES + 1)
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceInvalid(
            _("%(name)s: the file is larger than 5 MB; at most 5 MB.") % {"name": upload.name}
        )
    name = (upload.name or "upload")[:255].replace("\x00", "")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fmt not in FORMATS:
                raise EvidenceInvalid(
                    _("%(name)s: only JPEG, PNG and WebP images are accepted.") % {"name": name}
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise EvidenceInvalid(
                    _("%(name)s: the image is %(width)d×%(height)d pixels; at most 40 megapixels.")
                    % {"name": name, "width": width, "height": height}
                )
            image.load()
            content_type, extension = FORMATS[fmt]
            out = io.BytesIO()
            if fmt == "JPEG":
                image = image.convert("RGB") if image.mode not in ("RGB", "L") else image
                image.save(out, "JPEG", quality=92)
            elif fmt == "PNG":
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                    image = image.convert("RGBA")
                image.save(out, "PNG", optimize=False)
            else:
                image = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image
                image.save(out, "WEBP", quality=92)
    except EvidenceInvalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceInvalid(
            _("%(name)s: the image has too many pixels; at most 40 megapixels.") % {"name": name}
        ) from None
    except UnidentifiedImageError:
        raise EvidenceInvalid(
            _("%(name)s: not an image we can read (JPEG, PNG or WebP).") % {"name": name}
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise EvidenceInvalid(
            _("%(name)s: the image is damaged or truncated.") % {"name": name}
        ) from None
    return CheckedImage(
        content=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        original_name=name,
        original_sha256=hashlib.sha256(data).hexdigest(),
        original_size=len(data),
    )


def evidence_store(
    *,
    report: Report,
    image: CheckedImage,
    actor: Actor,
    uploaded_by_user: User | None = None,
    uploaded_by_organisation: SourceOrganisation | None = None,
    ip_address: str | None = None,
) -> Evidence:
    """Keep a checked image as evidence of the report, with its audit event."""
    with transaction.atomic():
        evidence = Evidence(
            report=report,
            original_name=image.original_name,
            content_type=image.content_type,
            size=len(image.content),
            sha256=hashlib.sha256(image.content).hexdigest(),
            width=image.width,
            height=image.height,
            uploaded_by_user=uploaded_by_user,
            uploaded_by_organisation=uploaded_by_organisation,
        )
        evidence.file.save(
            f"{evidence.sha256[:32]}{image.extension}", ContentFile(image.content), save=False
        )
        evidence.save()
        audit_record(
            actor=actor,
            action="evidence.added",
            subject=evidence,
            data={
                "after": {
                    "report": report.pk,
                    "content_type": evidence.content_type,
                    "size": evidence.size,
                    "sha256": evidence.sha256,
                    "original_sha256": image.original_sha256,
                    "original_size": image.original_size,
                    "original_name": image.original_name,
                }
            },
            ip_address=ip_address,
        )
        # Hashed by a worker (issue 17), once the evidence is there for it to read.
        transaction.on_commit(lambda: picture_hash_enqueue([evidence.pk]))
    return evidence
