from django.contrib.auth.management import create_permissions
from django.db import migrations

# Administrators may see and delete (reset) someone's TOTP device in the admin, never add or
# change one: a device made by someone else would be a way round the person's second factor.
# They may also see sign-in lockouts and lift one early (delete the attempt record).
PERMISSIONS = {
    "otp_totp": ["view_totpdevice", "delete_totpdevice"],
    "axes": ["view_accessattempt", "delete_accessattempt", "view_accessfailurelog"],
}


def _permissions(Permission):
    found = Permission.objects.none()
    for app_label, codenames in PERMISSIONS.items():
        found = found | Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
    return found


def grant(apps, schema_editor):
    for app_label in PERMISSIONS:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="Administrator")
    administrator.permissions.add(*_permissions(Permission))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.remove(*_permissions(Permission))


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
        ("axes", "0010_accessattemptexpiration"),
        ("moderation", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
