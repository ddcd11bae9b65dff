from django.contrib import admin
from django.db import transaction

from accounts.admin import PlatformAdmin
from accounts.models import Platform
from config.http import client_ip
from moderation.audit import Actor
from moderation.models import Case, LegalBasis
from moderation.takedowns import SECRET_FIELDS, platform_audit


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "active"]
    list_filter = ["active"]
    search_fields = ["code", "title"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """The administrators' view of cases (read-mostly; moderators use the queue)."""

    list_display = ["id", "account", "status", "category", "urgent", "priority", "claimed_by"]
    list_filter = ["status", "category", "urgent"]
    list_select_related = ["account__platform", "claimed_by"]
    search_fields = ["account__identifier", "account__display_name"]
    ordering = ["-priority", "id"]
    raw_id_fields = ["account", "previous_case", "claimed_by"]
    readonly_fields = ["version", "updated_at"]


@admin.register(Platform)
class AuditedPlatformAdmin(PlatformAdmin):
    """The platform admin of accounts/admin.py; every change is an audit event, secrets
    only ever recorded as rotated."""

    FIELDS = (
        "slug",
        "name",
        "endpoint_url",
        "signing_secret",
        "callback_secret",
        "profile_url_pattern",
        "active",
        "rate_limit_per_second",
    )

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
