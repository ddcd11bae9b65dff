"""The auditors' filter forms: one set of filters for the decision log, its exports and the
raw audit trail. Dates are days in WIB (the people's clock); the selectors get UTC bounds."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category
from accounts.models import Platform
from moderation.audit.selectors import AWAITING_APPROVAL, FILTER_FIELDS
from moderation.models import Decision, Export, TakedownRequest
from reports.models import SourceKind

# The "outcome" of a decision as the log shows it: what the supervisor said, then what
# became of the takedown request.
OUTCOME_CHOICES = [
    ("", _("Any outcome")),
    (AWAITING_APPROVAL, _("Awaiting approval")),
    ("approved", _("Approved")),
    ("rejected", _("Rejected")),
    *[(f"request_{value}", label) for value, label in TakedownRequest.Status.choices],
]


class _FilterForm(forms.Form):
    date_from = forms.DateField(label=_("From (WIB)"), required=False)
    date_to = forms.DateField(label=_("To (WIB, inclusive)"), required=False)
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any category")), *Category.choices]
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=200)
    source_kind = forms.ChoiceField(
        label=_("Source kind"),
        required=False,
        choices=[("", _("Any source")), *SourceKind.choices],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [
            ("", _("Any platform")),
            *Platform.objects.order_by("name").values_list("slug", "name"),
        ]
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if start and start.year < 2000 or end and end.year > 2999:
            raise forms.ValidationError(_("Pick dates between 2000 and 2999."))
        return cleaned

    def filters(self) -> dict[str, str]:
        """The applied filters as plain strings: stored on an Export, put back into links."""
        out: dict[str, str] = {}
        for name in FILTER_FIELDS:
            value = self.cleaned_data.get(name)
            if value:
                out[name] = value.isoformat() if isinstance(value, date) else str(value).strip()
        return out


class DecisionLogFilterForm(_FilterForm):
    action = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("Any decision")), *Decision.Outcome.choices],
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=OUTCOME_CHOICES)


class AuditTrailFilterForm(_FilterForm):
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=60,
        help_text=_("An action such as case.claimed, or a prefix such as case."),
        validators=[
            RegexValidator(r"^[a-z][a-z0-9_.]*$", _("Actions are lower-case words and dots."))
        ],
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9_]+$", _("Outcomes are lower-case words."))],
    )


class ExportRequestForm(DecisionLogFilterForm):
    format = forms.ChoiceField(label=_("Format"), choices=Export.Format.choices)
    include_contacts = forms.BooleanField(
        label=_("Include reporter contact details"),
        required=False,
        help_text=_("Public reporters' names, e-mails and phones are masked unless ticked."),
    )


class CheckpointForm(forms.Form):
    """An older checkpoint someone kept, to check today's log against."""

    checkpoint = forms.FileField(
        label=_("A checkpoint you kept (optional)"),
        required=False,
        help_text=_("The signed checkpoint file as downloaded from this page or the witness."),
    )

    MAX_BYTES = 16 * 1024

    def clean_checkpoint(self) -> str | None:
        upload = self.cleaned_data.get("checkpoint")
        if not upload:
            return None
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("A checkpoint is a few lines; this file is too large."))
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("A checkpoint is UTF-8 text; this file is not.")) from exc
