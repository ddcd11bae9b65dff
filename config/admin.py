from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from config.roles import Role, has_role


class SaringAdminSite(admin.AdminSite):
    site_header = "Saring administration"
    site_title = "Saring"

    def login(self, request, extra_context=None):
        # One sign-in page for everything, with its lockout and two-factor steps. Someone
        # signed in who may not use the admin is refused here: sent to sign in again, they
        # would be sent straight back, for ever.
        from django.contrib.auth.views import redirect_to_login  # needs the app registry

        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied
            return redirect("admin:index")
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

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module
        # django-rq registers a stand-in "dashboard" model whose pages assume rq-scheduler
        # and a table that do not exist here (they answer 500). Queue health is on /healthz
        # and in the RQ worker's log; the jobs people start show their progress in our pages.
        from django_rq.models import Dashboard

        if self.default_site and admin.site.is_registered(Dashboard):
            admin.site.unregister(Dashboard)
