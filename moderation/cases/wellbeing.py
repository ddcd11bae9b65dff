"""Reviewer wellbeing (issue 16): how evidence pictures look to one person, and whether the
case page should suggest a break.

The organisation sets defaults (EVIDENCE_BLUR_DEFAULT, EVIDENCE_GRAYSCALE_DEFAULT); a person
may override either on their StaffPreference, where blank / null means "the organisation's".
`evidence_settings_for` is the one place that resolves the two; every page that shows
evidence asks it, and the pages draw the result with `EvidenceSettings.thumb_classes`
(static/css/saring.css, no inline style under the strict CSP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from config.clock import wib_today
from moderation.models import BlurLevel, StaffPreference
from reports.selectors import graphic_break_due, graphic_seen_today

# Where the case page remembers that the person dismissed today's break prompt.
BREAK_DISMISSED_SESSION_KEY = "wellbeing_break_dismissed"


@dataclass(frozen=True)
class EvidenceSettings:
    blur: str  # a BlurLevel value
    grayscale: bool
    keep_blurred: bool  # reveal one picture at a time
    blur_is_default: bool  # the person has not chosen: the organisation's default applies
    grayscale_is_default: bool

    @property
    def blurred(self) -> bool:
        """Whether pictures start blurred (blur "none" shows them as they are)."""
        return self.blur != BlurLevel.NONE

    @property
    def thumb_classes(self) -> str:
        """The CSS classes of an evidence picture's wrapper: the blur level, `is-blurred` until
        revealed (the reveal script removes only that), `is-gray` for grayscale."""
        classes = [f"blur-{self.blur}"]
        if self.blurred:
            classes.append("is-blurred")
        if self.grayscale:
            classes.append("is-gray")
        return " ".join(classes)


def organisation_evidence_defaults() -> tuple[str, bool]:
    """The organisation's blur level and grayscale, from the settings."""
    return settings.EVIDENCE_BLUR_DEFAULT, settings.EVIDENCE_GRAYSCALE_DEFAULT


def evidence_settings_for(user: Any) -> EvidenceSettings:
    """The evidence display that applies to `user`: their own choice where they made one,
    the organisation's default where not."""
    preference = (
        StaffPreference.objects.filter(user=user).first() if user.is_authenticated else None
    )
    default_blur, default_grayscale = organisation_evidence_defaults()
    own_blur = preference.evidence_blur if preference else ""
    own_grayscale = preference.evidence_grayscale if preference else None
    return EvidenceSettings(
        blur=own_blur or default_blur,
        grayscale=default_grayscale if own_grayscale is None else own_grayscale,
        keep_blurred=bool(preference and preference.keep_evidence_blurred),
        blur_is_default=not own_blur,
        grayscale_is_default=own_grayscale is None,
    )


def evidence_tools_for(*, user: Any, session: Any) -> dict[str, Any]:
    """What the case page's evidence tools show this person: their evidence settings, how
    many graphic pictures they saw today (WIB) and whether to suggest a break, which they
    may dismiss for the rest of the day (`BREAK_DISMISSED_SESSION_KEY`)."""
    seen = graphic_seen_today(user=user)
    dismissed = session.get(BREAK_DISMISSED_SESSION_KEY) == wib_today().isoformat()
    default_blur, default_grayscale = organisation_evidence_defaults()
    return {
        "evidence_look": evidence_settings_for(user),
        "graphic_seen_today": seen,
        "break_due": graphic_break_due(seen) and not dismissed,
        "break_threshold": settings.GRAPHIC_DAILY_BREAK_THRESHOLD,
        "blur_default_label": BlurLevel(default_blur).label,
        "grayscale_default": default_grayscale,
        "blur_levels": BlurLevel.choices,
    }
