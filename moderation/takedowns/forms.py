"""Forms of the approvals and takedown pages: they bind and check input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Platform
from moderation.models import TakedownRequest
from moderation.takedowns.selectors import TakedownFilters


class ApproveForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
    urgent = forms.BooleanField(
        label=_("Urgent: disturbs public order (4-hour deadline)"), required=False
    )


class RejectForm(forms.Form):
    comment = forms.CharField(label=_("Why is it rejected?"), max_length=2000)


class BulkApproveForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000)

    def decision_ids(self) -> list[int]:
        return [int(v) for v in self.data.getlist("decision") if v.isdigit()]


class TakedownFilterForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *TakedownRequest.Status.choices],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [
            ("", _("Any")),
            *Platform.objects.order_by("name").values_list("slug", "name"),
        ]

    def filters(self) -> TakedownFilters:
        """The valid filters; an invalid value is dropped (and the form shows its error)."""
        data = self.cleaned_data if self.is_valid() else {}
        return TakedownFilters(
            platform=data.get("platform") or "",
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
        )
