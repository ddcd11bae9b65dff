"""Reference data in the admin (legal bases, platforms; organisations in reports/admin.py):
every change an audit event in the admin's own transaction, and nothing deleted (deactivate
instead, so the trail never loses what it points at). Cases are shown, never edited here: a
case changes only by a decision, with its audit event and version."""

import json

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.admin import PlatformAdmin
from accounts.categories import Category
from accounts.models import Platform
from config.http import client_ip
from moderation.audit import Actor, audit_record
from moderation.models import Case, LegalBasis
from moderation.takedowns import SECRET_FIELDS, platform_audit


def _plain(value: object) -> object:
    """As the audit event's JSON holds it (dates as text, records by primary key)."""
    return json.loads(json.dumps(value, default=lambda v: getattr(v, "pk", None) or str(v)))


class AuditedChangesAdmin(admin.ModelAdmin):
    """A model whose every admin save writes `<audit_action>.created` or `.changed` with the
    fields that changed, before and after; deletes are not offered."""

    audit_action = ""

    def save_model(self, request, obj, form, change: bool) -> None:
        changed = list(form.changed_data)
        before = {name: form.initial.get(name) for name in changed} if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and not changed:
                return
            audit_record(
                actor=Actor.staff(request.user),
                action=f"{self.audit_action}.{'changed' if change else 'created'}",
                subject=obj,
                subject_label=str(obj)[:200],
                data=_plain(
                    {
                        "changed": changed,
                        "before": before,
                        "after": {name: form.cleaned_data.get(name) for name in changed},
                    }
                ),
                ip_address=client_ip(request),
            )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LegalBasisForm(forms.ModelForm):
    # Ticked boxes rather than the array's comma-separated text: the values are fixed.
    categories = forms.MultipleChoiceField(
        label=_("Categories covered"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "A takedown of a category not ticked here cannot be proposed or approved under "
            "this legal basis."
        ),
    )

    class Meta:
        model = LegalBasis
        fields = ["code", "title", "active", "categories"]


@admin.register(LegalBasis)
class LegalBasisAdmin(AuditedChangesAdmin):
    audit_action = "legal_basis"
    form = LegalBasisForm
    list_display = ["code", "title", "active", "categories_covered"]
    list_filter = ["active"]
    search_fields = ["code", "title"]

    @admin.display(description=_("Categories covered"))
    def categories_covered(self, obj: LegalBasis) -> str:
        labels = dict(Category.choices)
        return ", ".join(str(labels.get(value, value)) for value in obj.categories) or "—"


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """The administrators' view of cases: read-only (moderators use the queue)."""

    list_display = ["id", "account", "status", "category", "urgent", "priority", "claimed_by"]
    list_filter = ["status", "category", "urgent"]
    list_select_related = ["account__platform", "claimed_by"]
    search_fields = ["account__identifier", "account__display_name"]
    ordering = ["-priority", "id"]
    raw_id_fields = ["account", "previous_case", "claimed_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Platform)
class AuditedPlatformAdmin(PlatformAdmin):
    """The platform admin of accounts/admin.py; every change is an audit event, secrets
    only ever recorded as rotated."""

    FIELDS = (
        "slug",
        "name",
        "endpoint_url",
        "restore_url",
        "signing_secret",
        "callback_secret",
        "profile_url_pattern",
        "active",
        "rate_limit_per_second",
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate a platform instead: its requests point at it

    def save_model(self, request, obj: Platform, form, change: bool) -> None:
        with transaction.atomic():
            locked = Platform.objects.select_for_update(no_key=True)  # see platform_configure
            saved = locked.get(pk=obj.pk) if change else None
            super().save_model(request, obj, form, change)
            # What really changed: a secret field left empty keeps the secret (the form).
            changed = [
                f for f in self.FIELDS if saved is None or getattr(saved, f) != getattr(obj, f)
            ]
            if not changed:
                return
            before = {f: getattr(saved, f) for f in changed if saved and f not in SECRET_FIELDS}
            platform_audit(
                platform=obj,
                created=not change,
                changed=changed,
                before=before,
                actor=Actor.staff(request.user),
                ip_address=client_ip(request),
            )
