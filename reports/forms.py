"""Forms of intake: the public report form and the CSV import upload."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category
from accounts.identifiers import IdentifierError, normalise_identifier
from accounts.models import Platform
from reports.models import INLINE_IMAGE_TYPES, SourceOrganisation
from reports.services.evidence import EvidenceInvalid, evidence_check
from reports.services.intake import MAX_DESCRIPTION, clean_text

MAX_SCREENSHOTS = 5


class CleanTextMixin:
    """Every text field loses NUL characters (PostgreSQL refuses them) before validation."""

    def to_python(self, value):
        if isinstance(value, str):
            value = clean_text(value)
        return super().to_python(value)


class TextField(CleanTextMixin, forms.CharField):
    pass


class EmailField(CleanTextMixin, forms.EmailField):
    pass


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ScreenshotsField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs["accept"] = ",".join(INLINE_IMAGE_TYPES)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_SCREENSHOTS:
            raise forms.ValidationError(
                _("At most %(count)d screenshots.") % {"count": MAX_SCREENSHOTS}
            )
        checked, problems = [], []
        for upload in files:
            try:
                checked.append(evidence_check(upload))
            except EvidenceInvalid as exc:
                problems.append(str(exc))
        if problems:
            raise forms.ValidationError(problems)
        return checked


class PublicReportForm(forms.Form):
    platform = forms.ModelChoiceField(
        label=_("Platform"), queryset=Platform.objects.filter(active=True), empty_label=None
    )
    account = TextField(
        label=_("Account"),
        max_length=500,
        help_text=_("The phone number, user name or profile link of the account."),
    )
    category = forms.ChoiceField(label=_("What is wrong"), choices=Category.choices)
    description = TextField(
        label=_("Description"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What did you see, and when? Do not include photos of children."),
    )
    screenshots = ScreenshotsField(
        label=_("Screenshots"),
        help_text=_("Up to 5 images (JPEG, PNG or WebP), at most 5 MB each."),
    )
    reporter_name = TextField(label=_("Your name"), max_length=200, required=False)
    reporter_email = EmailField(label=_("Your e-mail"), max_length=254, required=False)
    reporter_phone = TextField(label=_("Your phone number"), max_length=40, required=False)
    consent = forms.BooleanField(
        label=_(
            "I agree that the ministry may contact me about this report. My details are seen "
            "only by supervisors and are never given to the reported account or the platform."
        ),
        required=False,
    )
    altcha = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        platform = data.get("platform")
        account = data.get("account")
        if platform is not None and account:
            try:
                data["identifier"] = normalise_identifier(
                    account, profile_url_pattern=platform.profile_url_pattern
                )
            except IdentifierError:
                self.add_error(
                    "account",
                    _(
                        "We cannot read an account from this. Give a phone number, a user name "
                        "or a profile link of this platform."
                    ),
                )
        contact = any(data.get(f) for f in ("reporter_name", "reporter_email", "reporter_phone"))
        if contact and not data.get("consent"):
            self.add_error("consent", _("To leave contact details, agree to be contacted."))
        if not data.get("description", "").strip():
            self.add_error("description", _("Tell us what is wrong with the account."))
        return data


class ImportUploadForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Source organisation"),
        queryset=SourceOrganisation.objects.filter(active=True),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: external_reference, platform, account, category, description; optional "
            "display_name, profile_url, content_urls (space-separated), observed_at, urgent."
        ),
    )
