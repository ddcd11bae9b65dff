from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from config.roles import Role, has_role


class SaringAdminSite(admin.AdminSite):
    site_header = "Saring administration"
    site_title = "Saring"

    def has_permission(self, request) -> bool:
        # The admin is the administrators' tool: the staff flag alone does not open it.
        return bool(
            request.user.is_active
            and request.user.is_staff
            and has_role(request.user, Role.ADMINISTRATOR)
        )


class SaringAdminConfig(AdminConfig):
    default_site = "config.admin.SaringAdminSite"
