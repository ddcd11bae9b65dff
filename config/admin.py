from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse

from config.roles import Role, has_role


class SaringAdminSite(admin.AdminSite):
    site_header = "Saring administration"
    site_title = "Saring"

    def login(self, request, extra_context=None):
        # One sign-in page for everything, with its lockout and two-factor steps.
        from django.contrib.auth.views import redirect_to_login  # needs the app registry

        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    def has_permission(self, request) -> bool:
        # The admin is the administrators' tool: the staff flag alone does not open it.
        return bool(
            request.user.is_active
            and request.user.is_staff
            and has_role(request.user, Role.ADMINISTRATOR)
        )


class SaringAdminConfig(AdminConfig):
    default_site = "config.admin.SaringAdminSite"
