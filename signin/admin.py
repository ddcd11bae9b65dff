"""People in the Django admin: administrators give and take roles, remove a lost authenticator
and ask for or approve a sign-in recovery — every change an audit event in the admin's own
transaction. What would let one administrator act as someone else is not here: no password
setting (a recovery needs a second administrator), no devices made for someone, no
permissions or superuser flag to hand out, no roles to rename (they are made by migration)."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.roles import role_groups
from signin import services
from signin.models import SignInRecovery

ROLE_FLAGS = ("is_active", "is_staff", "is_superuser")
DETAIL_FIELDS = ("username", "first_name", "last_name", "email")
# The password just made by an approved recovery, between the action and the page showing it.
RECOVERED_SESSION_KEY = "saring:recovered_password"


class AuditedTOTPDeviceAdmin(TOTPDeviceAdmin):
    def has_add_permission(self, request):
        return False  # a device made by someone else would be a way round the person's own

    def has_change_permission(self, request, obj=None):
        return False

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


class StaffCreationForm(forms.ModelForm):
    """A new person, without a password: nobody chooses someone else's password, so an
    administrator alone cannot make an account they can sign in to. The first password comes
    through a sign-in recovery, which a second administrator approves."""

    class Meta:
        model = User
        fields = ["username"]

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class AuditedUserAdmin(UserAdmin):
    add_form = StaffCreationForm
    add_fieldsets = (
        (
            None,
            {
                "fields": ("username",),
                "description": _(
                    "The person gets no password here. Save, give them their roles, then ask "
                    "for a sign-in recovery: a second administrator approves it and hands over "
                    "their first password."
                ),
            },
        ),
    )
    # Without Django's "Permissions" box: roles are the only way to grant anything, and
    # nobody is made a superuser here.
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_filter = ("is_active", "groups")
    filter_horizontal = ("groups",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":  # the roles, nothing else
            kwargs["queryset"] = role_groups()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def user_change_password(self, request, id, form_url=""):
        """Not here: someone who lost their password gets a sign-in recovery, which a second
        administrator approves; people change their own at /account/password/."""
        self.message_user(
            request,
            _(
                "Administrators do not set passwords. Ask for a sign-in recovery: a second "
                "administrator approves it and hands over a new password."
            ),
            messages.WARNING,
        )
        url = reverse("admin:signin_signinrecovery_add")
        return HttpResponseRedirect(f"{url}?user={int(id) if str(id).isdigit() else ''}")

    def _roles(self, user) -> dict:
        keys = user.groups.values_list("staff_role__key", flat=True) if user.pk else []
        groups = sorted(key for key in keys if key)
        return {"groups": groups, **{flag: getattr(user, flag) for flag in ROLE_FLAGS}}

    def save_related(self, request, form, formsets, change):
        # The admin's change view runs in one transaction: the event commits with the change.
        before = self._roles(form.instance) if change else None
        if before is not None:
            before.update(
                {flag: form.initial.get(flag) for flag in ROLE_FLAGS if flag in form.fields}
            )
        super().save_related(request, form, formsets, change)
        after = self._roles(form.instance)
        details = [name for name in form.changed_data if name in DETAIL_FIELDS]
        if change and details:
            services.staff_details_changed(
                request=request,
                actor_user=request.user,
                user=form.instance,
                changed={
                    name: (str(form.initial.get(name) or ""), str(form.cleaned_data.get(name)))
                    for name in details
                },
            )
        if before != after:
            services.staff_roles_changed(
                request=request,
                actor_user=request.user,
                user=form.instance,
                before=before or {},
                after=after,
            )


class RecoveryForm(forms.ModelForm):
    class Meta:
        model = SignInRecovery
        fields = ["user", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, requested_by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requested_by = requested_by

    def clean_user(self):
        user = self.cleaned_data["user"]
        if self.requested_by is not None and user.pk == self.requested_by.pk:
            raise forms.ValidationError(
                _("Nobody recovers their own sign-in: ask another administrator to do it.")
            )
        return user


@admin.register(SignInRecovery)
class SignInRecoveryAdmin(admin.ModelAdmin):
    """Asked for here (the add form), approved or cancelled by the actions; never edited."""

    def has_module_permission(self, request):
        return True  # the admin site itself is for administrators only (config/admin.py)

    form = RecoveryForm
    list_display = ["user", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "requested_by", "decided_by"]
    raw_id_fields = ["user"]
    actions = ["approve", "cancel"]
    readonly_fields = [
        "user",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]

    def has_add_permission(self, request):
        return True  # the admin site itself is for administrators only (config/admin.py)

    def has_view_permission(self, request, obj=None):
        return True

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class Bound(base):  # type: ignore[valid-type, misc]
            def __init__(self, *args, **inner):
                super().__init__(*args, requested_by=request.user, **inner)

        return Bound

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        try:
            made = services.recovery_request(
                request=request,
                actor_user=request.user,
                user=form.cleaned_data["user"],
                reason=form.cleaned_data["reason"],
            )
        except services.RecoveryRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        obj.pk = made.pk

    @admin.action(description=_("Approve the selected recovery (a second administrator)"))
    def approve(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Approve one recovery at a time."), messages.ERROR)
            return None
        try:
            recovery, password = services.recovery_approve(
                request=request, actor_user=request.user, recovery_id=queryset.get().pk
            )
        except services.RecoveryRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return None
        request.session[RECOVERED_SESSION_KEY] = {
            "username": recovery.user.get_username(),
            "password": password,
        }
        return HttpResponseRedirect(reverse("admin:signin_recovery_approved"))

    @admin.action(description=_("Cancel the selected recoveries"))
    def cancel(self, request, queryset):
        for recovery in queryset:
            try:
                services.recovery_cancel(
                    request=request, actor_user=request.user, recovery_id=recovery.pk
                )
            except services.RecoveryRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)

    def get_urls(self):
        shown = self.admin_site.admin_view(self.recovery_approved)
        return [
            path("approved/", shown, name="signin_recovery_approved"),
            *super().get_urls(),
        ]

    def recovery_approved(self, request):
        """The new password, once: taken out of the session as it is shown."""
        recovered = request.session.pop(RECOVERED_SESSION_KEY, None)
        response = TemplateResponse(
            request,
            "admin/signin/recovery_approved.html",
            {
                **self.admin_site.each_context(request),
                "recovered": recovered,
                "already_shown": recovered is None,
                "title": _("Sign-in recovered"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response


class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    """A lockout is lifted by deleting its attempt record: an audit event each."""

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        with transaction.atomic():
            services.lockout_lifted(request=request, actor_user=request.user, attempt=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for attempt in queryset:
                services.lockout_lifted(request=request, actor_user=request.user, attempt=attempt)
            super().delete_queryset(request, queryset)


class ReadOnlyLogAdmin:
    """django-axes' logs, to read only."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SignInLogAdmin(ReadOnlyLogAdmin, AccessLogAdmin):
    pass


class SignInFailureLogAdmin(ReadOnlyLogAdmin, AccessFailureLogAdmin):
    pass


for model, model_admin in (
    (TOTPDevice, AuditedTOTPDeviceAdmin),
    (User, AuditedUserAdmin),
    (AccessAttempt, AuditedAccessAttemptAdmin),
    (AccessLog, SignInLogAdmin),
    (AccessFailureLog, SignInFailureLogAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
# Roles are made by a migration and checked by name (config/roles.py): not edited here.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
