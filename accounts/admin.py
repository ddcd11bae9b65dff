from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import ChatAccount, Platform


def mask_secret(value: str) -> str:
    """Enough to recognise a secret, never enough to use it."""
    if not value:
        return ""
    return f"{value[:4]}…{'•' * 8} ({len(value)} characters)"


class PlatformForm(forms.ModelForm):
    """Secrets are write-only: the form shows a mask and keeps the old value when left empty."""

    signing_secret = forms.CharField(
        label=_("signing secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    endpoint_url = forms.URLField(
        label=_("operator endpoint URL"), max_length=500, assume_scheme="https"
    )
    restore_url = forms.URLField(
        label=_("restore endpoint URL"),
        max_length=500,
        assume_scheme="https",
        required=False,
        help_text=Platform._meta.get_field("restore_url").help_text,
    )
    callback_secret = forms.CharField(
        label=_("callback secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = Platform
        fields = [
            "slug",
            "name",
            "endpoint_url",
            "restore_url",
            "signing_secret",
            "callback_secret",
            "profile_url_pattern",
            "active",
            "rate_limit_per_second",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("signing_secret", "callback_secret"):
            current = getattr(self.instance, name, "")
            if current:
                self.fields[name].help_text = _("Current: %(mask)s. Leave empty to keep it.") % {
                    "mask": mask_secret(current)
                }

    def clean(self):
        cleaned = super().clean()
        for name in ("signing_secret", "callback_secret"):
            new = cleaned.get(name)
            if new:
                if len(new) < 32:
                    self.add_error(name, _("Use at least 32 characters."))
            elif self.instance.pk and getattr(self.instance, name):
                cleaned[name] = getattr(self.instance, name)
            else:
                self.add_error(name, _("A new platform needs this secret."))
        return cleaned


class PlatformAdmin(admin.ModelAdmin):
    """Registered by moderation/admin.py, which adds the audit event (accounts imports no
    other app)."""

    form = PlatformForm
    list_display = [
        "slug",
        "name",
        "endpoint_url",
        "active",
        "rate_limit_per_second",
        "signing_secret_masked",
    ]
    list_filter = ["active"]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "active"]}),
        (
            _("Operator API"),
            {
                "fields": [
                    "endpoint_url",
                    "restore_url",
                    "rate_limit_per_second",
                    "profile_url_pattern",
                ],
                "description": _(
                    "Takedown requests are POSTed to the endpoint, restore requests of "
                    "granted objections to the restore endpoint, at most this many per "
                    "second across all workers."
                ),
            },
        ),
        (
            _("Secrets"),
            {
                "fields": ["signing_secret", "callback_secret"],
                "description": _(
                    "Never shown again once saved. Give the operator both; leave a field "
                    "empty to keep the current secret."
                ),
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("signing secret"))
    def signing_secret_masked(self, platform: Platform) -> str:
        return mask_secret(platform.signing_secret)


@admin.register(ChatAccount)
class ChatAccountAdmin(admin.ModelAdmin):
    list_display = ["platform", "identifier", "display_name", "status", "last_reported_at"]
    list_filter = ["platform", "status"]
    search_fields = ["identifier", "display_name"]
    list_select_related = ["platform"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.view_chataccount")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
