from django.contrib.auth.management import create_permissions
from django.db import migrations

# What the Administrator group may manage in the admin (DESIGN.md "People"). No delete
# permissions: staff users are deactivated, tokens revoked, platforms made inactive, so the
# audit trail never loses what it points at.
ADMINISTRATOR_MODELS = {
    "auth": ["user", "group"],
    "accounts": ["platform"],
    "reports": ["sourceorganisation", "apitoken"],
    "moderation": ["legalbasis"],
}
ROLES = ["Moderator", "Supervisor", "Auditor", "Administrator"]


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    administrator = Group.objects.get(name="Administrator")
    for app_label, models in ADMINISTRATOR_MODELS.items():
        administrator.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label, content_type__model__in=models
            ).exclude(codename__startswith="delete_")
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_four_eyes_composite_key"),
        ("accounts", "0001_initial"),
        ("reports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
