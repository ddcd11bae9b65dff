from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LegalHoldForm(forms.Form):
    action = forms.ChoiceField(choices=[("set", _("Set")), ("clear", _("Clear"))])
    reason = forms.CharField(label=_("Reason"), max_length=2000, strip=True)
