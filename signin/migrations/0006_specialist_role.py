from django.db import migrations

# Issue 16, restricted queues: child sexual abuse material and terrorism are reviewed only by
# people who also hold the Specialist role. Like every role, a group bound to its stable key;
# it carries no model permissions (it widens what a moderator, supervisor or auditor may open).
KEY = "Specialist"


def add(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    StaffRole = apps.get_model("signin", "StaffRole")
    group, _ = Group.objects.get_or_create(name=KEY)
    StaffRole.objects.get_or_create(key=KEY, defaults={"group": group})


def remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    StaffRole = apps.get_model("signin", "StaffRole")
    StaffRole.objects.filter(key=KEY).delete()
    Group.objects.filter(name=KEY).delete()


class Migration(migrations.Migration):
    dependencies = [("signin", "0005_staff_role_keys")]

    operations = [migrations.RunPython(add, remove)]
