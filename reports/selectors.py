"""Reads for intake."""

from __future__ import annotations

from reports.models import Report

# What a reporter may learn: nothing of the moderation's inner steps (DESIGN.md "People").
PUBLIC_STATUS = {
    "open": "received",
    "in_review": "in_review",
    "escalated": "in_review",
    "proposed": "in_review",
    "approved": "action_taken",
    "dismissed": "closed",
    "closed": "closed",
}


def report_public_status(*, case_status: str, takedown_approved: bool = False) -> str:
    if case_status == "closed" and takedown_approved:
        return "action_taken"
    return PUBLIC_STATUS.get(case_status, "received")


def report_status(report: Report) -> str:
    """received / in_review / action_taken / closed."""
    case = report.case
    approved = False
    if case.status == "closed":
        approved = case.takedown_requests.exists()
    return report_public_status(case_status=case.status, takedown_approved=approved)


def report_for_organisation(*, organisation, pk: int) -> Report | None:
    return Report.objects.select_related("case").filter(organisation=organisation, pk=pk).first()


def report_by_receipt(code: str) -> Report | None:
    return Report.objects.select_related("case").filter(receipt_code=code.strip().upper()).first()
