from django.contrib import admin

from moderation.models import Case, LegalBasis


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
