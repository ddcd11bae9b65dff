from django.contrib.auth.management import create_permissions
from django.db import migrations

# Administrators may see and delete (reset) someone's TOTP device in the admin, never add or
# change one: a device made by someone else would be a way round the person's second factor.
CODENAMES = ["view_totpdevice", "delete_totpdevice"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("otp_totp")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="Administrator")
    administrator.permissions.add(
        *Permission.objects.filter(content_type__app_label="otp_totp", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="otp_totp", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
        ("moderation", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
