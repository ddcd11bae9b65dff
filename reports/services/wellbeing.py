"""Reviewer wellbeing (issue 16): the count of graphic pictures a person was shown today.

A record, not an action: it is written on the evidence request itself, so it must cost next
to nothing. One INSERT … ON CONFLICT DO NOTHING in the request's autocommit, no lock held
past it; opening the same picture again the same day changes nothing. It is not audited (it
changes no state of a case, and the audit trail would grow by every thumbnail shown).
"""

from __future__ import annotations

from django.contrib.auth.models import User

from accounts.categories import GRAPHIC_CATEGORIES
from config.clock import wib_today
from reports.models import Evidence, GraphicEvidenceView


def graphic_view_record(*, user: User, evidence: Evidence) -> bool:
    """Count `evidence` toward `user`'s graphic pictures of today (WIB) when it is a picture
    of a case in a graphic category; whether it is one. `evidence` comes with its report's
    case loaded."""
    if not evidence.shown_inline or evidence.report.case.category not in GRAPHIC_CATEGORIES:
        return False
    GraphicEvidenceView.objects.bulk_create(
        [GraphicEvidenceView(day=wib_today(), user=user, evidence=evidence)],
        ignore_conflicts=True,
    )
    return True
