from django.contrib import admin

from moderation.models import LegalBasis


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "active"]
    list_filter = ["active"]
    search_fields = ["code", "title"]
