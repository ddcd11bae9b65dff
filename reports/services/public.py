"""A report from a member of the public, with its screenshots."""

from __future__ import annotations

from django.db import transaction

from accounts.identifiers import Identifier
from accounts.models import Platform
from moderation.audit import Actor
from reports.models import Report
from reports.services.evidence import CheckedImage, evidence_store
from reports.services.intake import ReportInput, payload_hash, reports_receive


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
