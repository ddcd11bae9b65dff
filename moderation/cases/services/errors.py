"""Why an action on a case was refused, in words a moderator can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _


class CaseActionError(Exception):
    """A clear reason an action on a case was refused; views show it as it is."""


class CaseChanged(CaseActionError):
    """The case changed since the form was loaded: someone else decided, claimed or released."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "This case changed since you opened it (someone else acted on it). "
                "Nothing was saved: look at it again before deciding."
            )
        )
