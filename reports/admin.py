from django.contrib import admin

from reports.models import ApiToken, SourceOrganisation


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fields = ["label", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued through the intake service, which shows them once


@admin.register(SourceOrganisation)
class SourceOrganisationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["slug", "name"]
    inlines = [ApiTokenInline]
