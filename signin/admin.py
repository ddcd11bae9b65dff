"""Administrators reset someone's two-factor device and change staff roles in the Django
admin; both are audit events written in the admin's own transaction."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from signin import services

ROLE_FLAGS = ("is_active", "is_staff", "is_superuser")


class AuditedTOTPDeviceAdmin(TOTPDeviceAdmin):
    def get_urls(self):
        # Without django-otp's "config" and "qrcode" pages: an administrator must never see
        # someone's TOTP secret, or the second factor would be theirs too.
        return super(TOTPDeviceAdmin, self).get_urls()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.confirmed:
            services.totp_device_added_by_admin(
                request=request, device=obj, actor_user=request.user
            )

    def delete_model(self, request, obj):
        services.totp_remove(request=request, device=obj, actor_user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for device in queryset.select_related("user"):
                services.totp_remove(request=request, device=device, actor_user=request.user)


class AuditedUserAdmin(UserAdmin):
    def _roles(self, user) -> dict:
        groups = sorted(user.groups.values_list("name", flat=True)) if user.pk else []
        return {"groups": groups, **{flag: getattr(user, flag) for flag in ROLE_FLAGS}}

    def save_related(self, request, form, formsets, change):
        # The admin's change view runs in one transaction: the event commits with the change.
        before = self._roles(form.instance) if change else None
        if before is not None:
            before.update({flag: form.initial.get(flag) for flag in ROLE_FLAGS})
        super().save_related(request, form, formsets, change)
        after = self._roles(form.instance)
        if before != after:
            services.staff_roles_changed(
                request=request,
                actor_user=request.user,
                user=form.instance,
                before=before or {},
                after=after,
            )


for model, model_admin in ((TOTPDevice, AuditedTOTPDeviceAdmin), (User, AuditedUserAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
