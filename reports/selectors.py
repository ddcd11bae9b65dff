"""Reads for intake."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count

from config.clock import wib_today
from moderation.models import Case
from reports.models import GraphicEvidenceView, Report, SourceOrganisation

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


# --- Reviewer wellbeing (issue 16): graphic pictures seen today, as counts only ------------


def graphic_break_due(seen: int) -> bool:
    """Whether a person who saw `seen` graphic pictures today has reached the day's threshold
    (GRAPHIC_DAILY_BREAK_THRESHOLD), from which a break is suggested."""
    return seen >= settings.GRAPHIC_DAILY_BREAK_THRESHOLD


def graphic_seen_today(*, user: User) -> int:
    """How many distinct graphic pictures `user` was served today (WIB)."""
    return GraphicEvidenceView.objects.filter(day=wib_today(), user=user).count()


@dataclass(frozen=True)
class GraphicSeen:
    user: User
    seen: int

    @property
    def break_due(self) -> bool:
        return graphic_break_due(self.seen)


def graphic_seen_today_totals() -> list[GraphicSeen]:
    """Everyone who saw graphic pictures today (WIB), most first: a number per person, never
    which pictures."""
    people = (
        User.objects.filter(graphic_evidence_views__day=wib_today())
        .annotate(seen=Count("graphic_evidence_views"))
        .order_by("-seen", "username")
    )
    return [GraphicSeen(user=person, seen=person.seen) for person in people]
