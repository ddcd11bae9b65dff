"""A report from a member of the public, with its screenshots."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import transaction

from accounts.identifiers import Identifier, normalise_phone
from accounts.models import Platform
from moderation.audit import Actor
from reports.models import Report
from reports.services.evidence import CheckedImage, evidence_store
from reports.services.intake import ReportInput, payload_hash, reports_receive


def reporter_key(*, email: str, phone: str, ip_address: str | None) -> str:
    """Who a public reporter is, as far as priority is concerned: their e-mail, else their
    phone (both only given with consent), else their client address — keyed with the
    SECRET_KEY and hashed, so it tells reports of one person apart from others' without
    naming anyone. Empty when there is nothing to go by."""
    if email:
        identity = "email:" + email.strip().lower()
    elif phone:
        identity = "phone:" + (normalise_phone(phone) or phone.strip())
    elif ip_address:
        identity = "address:" + ip_address
    else:
        return ""
    key = hashlib.sha256(b"saring.reporter:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:32]


@transaction.atomic
def public_report_submit(
    *,
    platform: Platform,
    identifier: Identifier,
    account_submitted: str,
    category: str,
    description: str,
    screenshots: list[CheckedImage],
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    consent: bool = False,
    ip_address: str | None = None,
) -> Report:
    """Receive the report and keep its screenshots, all or nothing."""
    item = ReportInput(
        platform=platform,
        identifier=identifier,
        identifier_submitted=account_submitted[:1000],
        category=category,
        description=description.strip(),
        reporter_name=reporter_name.strip() if consent else "",
        reporter_email=reporter_email.strip() if consent else "",
        reporter_phone=reporter_phone.strip() if consent else "",
        reporter_consent=consent,
        reporter_key=reporter_key(
            email=reporter_email if consent else "",
            phone=reporter_phone if consent else "",
            ip_address=ip_address,
        ),
    )
    item.payload_hash = payload_hash(
        {
            "platform": platform.slug,
            "account": account_submitted,
            "category": category,
            "description": description,
        }
    )
    actor = Actor.public()
    [outcome] = reports_receive(
        inputs=[item], organisation=None, actor=actor, ip_address=ip_address
    )
    for image in screenshots:
        evidence_store(report=outcome.report, image=image, actor=actor, ip_address=ip_address)
    return outcome.report
