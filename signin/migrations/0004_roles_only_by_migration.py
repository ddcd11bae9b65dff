from django.db import migrations

# Roles are groups made by migration (moderation 0003) and checked by name: administrators
# may no longer add, rename or re-permission a group in the admin (they still give and take
# roles on a person's page, which is audited).
TAKEN = ["add_group", "change_group", "delete_group"]


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    taken = Permission.objects.filter(content_type__app_label="auth", codename__in=TAKEN)
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.remove(*taken)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    given = Permission.objects.filter(
        content_type__app_label="auth", codename__in=["add_group", "change_group"]
    )
    for group in Group.objects.filter(name="Administrator"):
        group.permissions.add(*given)


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0003_sign_in_recovery"),
        ("moderation", "0003_roles"),
    ]

    operations = [migrations.RunPython(revoke, grant)]
