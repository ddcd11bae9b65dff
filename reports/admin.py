from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from config.http import client_ip
from moderation.admin import AuditedChangesAdmin
from reports.models import ApiToken, SourceOrganisation
from reports.services.tokens import api_token_issue, api_token_revoke

# The tokens of the last issue, in clear, between the action and the page that shows them.
ISSUED_SESSION_KEY = "saring:issued_api_tokens"


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fields = ["label", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # tokens are issued through the intake service, which shows them once


@admin.register(SourceOrganisation)
class SourceOrganisationAdmin(AuditedChangesAdmin):
    audit_action = "organisation"
    list_display = ["slug", "name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["slug", "name"]
    inlines = [ApiTokenInline]
    actions = ["issue_token"]

    @admin.action(description=_("Issue a new API token"), permissions=["change"])
    def issue_token(self, request, queryset):
        """Issue, then redirect to the page that shows the tokens (POST-redirect-GET): a
        reload shows that page again, it does not issue another token."""
        issued = []
        for organisation in queryset:
            token, plain = api_token_issue(
                organisation=organisation,
                label=f"issued in the admin by {request.user.get_username()}",
                issued_by=request.user,
                ip_address=client_ip(request),
            )
            issued.append(
                {"organisation": organisation.name, "prefix": token.prefix, "plain": plain}
            )
        request.session[ISSUED_SESSION_KEY] = issued
        return HttpResponseRedirect(reverse("admin:reports_token_issued"))

    def get_urls(self):
        shown = self.admin_site.admin_view(self.token_issued)
        return [path("token-issued/", shown, name="reports_token_issued"), *super().get_urls()]

    def token_issued(self, request):
        """The tokens just issued, once: taken out of the session as they are shown."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        issued = request.session.pop(ISSUED_SESSION_KEY, None)
        response = TemplateResponse(
            request,
            "admin/reports/token_issued.html",
            {
                **self.admin_site.each_context(request),
                "issued": issued or [],
                "already_shown": issued is None,
                "title": _("API token issued"),
            },
        )
        # The page holds the token in clear: never keep it in a cache.
        response["Cache-Control"] = "no-store"
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["organisation", "prefix", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organisation", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "label", "organisation__slug"]
    fields = [
        "organisation",
        "label",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # issue tokens from the organisation list: they are shown once

    def has_change_permission(self, request, obj=None):
        return False  # a token is issued and revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("reports.change_apitoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = sum(
            api_token_revoke(token=token, revoked_by=request.user, ip_address=client_ip(request))
            for token in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(
            request, _("%(count)d token(s) revoked.") % {"count": revoked}, messages.SUCCESS
        )
