"""Forms of the queue and the case page: they bind and check input, services decide."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category, Urgency
from moderation.cases.selectors import QueueFilters
from moderation.models import BlurLevel, Decision
from reports.models import SourceKind

ANY = [("", _("Any"))]


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    platform = forms.ChoiceField(label=_("Platform"), required=False, choices=ANY)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=ANY + list(Category.choices)
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=ANY + list(SourceKind.choices)
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        required=False,
        choices=ANY + [("urgent", _("Urgent")), ("normal", _("Normal"))],
    )
    age = forms.ChoiceField(
        label=_("Age"),
        required=False,
        choices=ANY
        + [
            ("1d", _("Under a day")),
            ("1-3d", _("1–3 days")),
            ("3-7d", _("3–7 days")),
            ("7d+", _("Over a week")),
        ],
    )
    claimed = forms.ChoiceField(
        label=_("Claim"),
        required=False,
        choices=ANY + [("unclaimed", _("Unclaimed")), ("claimed", _("Claimed"))],
    )
    sla = forms.ChoiceField(
        label=_("Review target"),
        required=False,
        choices=ANY + [("ok", _("Within")), ("due", _("Due soon")), ("breached", _("Missed"))],
    )

    def __init__(self, *args, platforms: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = ANY + platforms

    def select_fields(self) -> list[tuple[str, str, str]]:
        """(name, label, options HTML) of every select, built in Python: the queue renders on
        every filter change, and Django's widget templates are its slowest part."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        selects = []
        for name, field in self.fields.items():
            if name == "q":
                continue
            current = data.get(name) or ""
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (value, mark_safe(" selected") if value == current else "", label)  # noqa: S308
                    for value, label in field.choices
                ),
            )
            selects.append((name, field.label, options))
        return selects

    def filters(self) -> QueueFilters:
        """The valid filters; an invalid value is dropped (and the form shows its error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return QueueFilters(**{name: data.get(name) or "" for name in self.fields})


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices)
    version = forms.IntegerField(min_value=1)
    rationale = forms.CharField(required=False, max_length=10_000)
    category = forms.ChoiceField(required=False, choices=[("", "")] + list(Category.choices))
    legal_basis = forms.IntegerField(required=False)
    urgency = forms.ChoiceField(required=False, choices=Urgency.choices)
    repeat_reason = forms.CharField(required=False, max_length=2000)


class NoteForm(forms.Form):
    body = forms.CharField(max_length=10_000)


class ReassignForm(forms.Form):
    version = forms.IntegerField(min_value=1, required=False)
    to_user = forms.CharField(max_length=150)


class SelectedCasesForm(forms.Form):
    """A selection of cases as "case id:version" pairs, one per ticked checkbox."""

    selected = forms.MultipleChoiceField(required=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        values = self.data.getlist("selected") if hasattr(self.data, "getlist") else []
        self.fields["selected"].choices = [(v, v) for v in values]

    def case_versions(self) -> dict[int, int]:
        pairs = {}
        for value in self.cleaned_data["selected"]:
            case_id, _, version = value.partition(":")
            if case_id.isdigit() and version.isdigit():
                pairs[int(case_id)] = int(version)
        return pairs


class BulkDismissForm(SelectedCasesForm):
    reason = forms.CharField(max_length=10_000)


class RingProposalForm(SelectedCasesForm):
    """One takedown proposal for several cases of a ring (issue 17): the fields of a single
    proposal (DecisionForm's), which the decision service checks for each case."""

    category = forms.ChoiceField(choices=Category.choices)
    legal_basis = forms.IntegerField()
    urgency = forms.ChoiceField(required=False, choices=Urgency.choices)
    rationale = forms.CharField(max_length=10_000)
    repeat_reason = forms.CharField(required=False, max_length=2000)


GRAYSCALE_CHOICES = {"": None, "on": True, "off": False}


class EvidenceSettingsForm(forms.Form):
    """A person's evidence display (issue 16). The checkbox is a checkbox (absent = off); the
    blur level and grayscale change only when the form sent them, and "" returns each to the
    organisation's default."""

    keep_evidence_blurred = forms.BooleanField(required=False)
    evidence_blur = forms.ChoiceField(
        required=False, choices=[("", _("Organisation default")), *BlurLevel.choices]
    )
    evidence_grayscale = forms.ChoiceField(
        required=False,
        choices=[("", _("Organisation default")), ("on", _("On")), ("off", _("Off"))],
    )

    def changes(self) -> dict:
        """The keyword arguments of `staff_preference_set` for what was sent."""
        data = self.cleaned_data
        changes: dict = {"keep_evidence_blurred": data["keep_evidence_blurred"]}
        if "evidence_blur" in self.data:
            changes["evidence_blur"] = data["evidence_blur"]
        if "evidence_grayscale" in self.data:
            changes["evidence_grayscale"] = GRAYSCALE_CHOICES[data["evidence_grayscale"]]
        return changes
