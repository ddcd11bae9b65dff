"""Forms of the supervisors' objection pages: they bind and check input; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.models import Objection
from moderation.objections.selectors import DEFAULT_SHOW
from moderation.objections.services import MAX_REASON

REASON_REQUIRED = _("Give the reason: the owner and the operator receive it with the outcome.")
SHOW_CHOICES = [
    ("all", _("All: awaiting first")),
    ("awaiting", _("Awaiting decision")),
    ("overdue", _("Overdue")),
    ("decided", _("Decided")),
    ("upheld", _("Upheld")),
    ("granted", _("Granted")),
]


class ObjectionFilterForm(forms.Form):
    show = forms.ChoiceField(label=_("Show"), required=False, choices=SHOW_CHOICES)
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def show_value(self) -> str:
        """The valid filter; an invalid one falls back to the default (the form says why)."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("show") or DEFAULT_SHOW


class ObjectionDecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        widget=forms.RadioSelect,
        choices=[
            (Objection.Status.UPHELD, _("Uphold: the takedown stands")),
            (Objection.Status.GRANTED, _("Grant: restore the account")),
        ],
        error_messages={"required": _("Choose whether the objection is upheld or granted.")},
    )
    reason = forms.CharField(
        label=_("Reason (the owner and the operator receive it)"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": REASON_REQUIRED},
    )
