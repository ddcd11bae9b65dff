"""Reads for intake."""

from __future__ import annotations

from moderation.models import Case
from reports.models import Report, SourceOrganisation

# What a reporter may learn: nothing of the moderation's inner steps (DESIGN.md "People").
PUBLIC_STATUS: dict[str, str] = {
    Case.Status.OPEN: "received",
    Case.Status.IN_REVIEW: "in_review",
    Case.Status.ESCALATED: "in_review",
    Case.Status.PROPOSED: "in_review",
    Case.Status.APPROVED: "action_taken",
    Case.Status.DISMISSED: "closed",
    Case.Status.CLOSED: "closed",
}


def report_public_status(*, case_status: str, takedown_approved: bool = False) -> str:
    if case_status == Case.Status.CLOSED and takedown_approved:
        return "action_taken"
    return PUBLIC_STATUS.get(case_status, "received")


def report_status(report: Report) -> str:
    """received / in_review / action_taken / closed."""
    case = report.case
    approved = False
    if case.status == Case.Status.CLOSED:
        approved = case.takedown_requests.exists()
    return report_public_status(case_status=case.status, takedown_approved=approved)


def report_for_organisation(*, organisation: SourceOrganisation, pk: int) -> Report | None:
    return Report.objects.select_related("case").filter(organisation=organisation, pk=pk).first()


def report_by_receipt(code: str) -> Report | None:
    return Report.objects.select_related("case").filter(receipt_code=code.strip().upper()).first()
