import django.db.models.deletion
from django.db import migrations, models

# The roles' stable keys (config.roles.Role values), each bound to the group moderation 0003
# made under the same name. From here on a role is checked by key, never by a group's name.
KEYS = ["Moderator", "Supervisor", "Auditor", "Administrator"]


def bind(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    StaffRole = apps.get_model("signin", "StaffRole")
    for key in KEYS:
        group, _ = Group.objects.get_or_create(name=key)
        StaffRole.objects.get_or_create(key=key, defaults={"group": group})


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0004_roles_only_by_migration"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffRole",
            fields=[
                ("key", models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name="key")),
                (
                    "group",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="staff_role",
                        to="auth.group",
                        verbose_name="group",
                    ),
                ),
            ],
            options={"verbose_name": "staff role"},
        ),
        migrations.RunPython(bind, migrations.RunPython.noop),
    ]
