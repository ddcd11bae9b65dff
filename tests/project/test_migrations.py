import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_the_roles_exist_after_migrating():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Moderator",
        "Supervisor",
        "Auditor",
        "Administrator",
        "Specialist",
    }
    from signin.models import StaffRole

    # Each role's stable key is bound to its group (what config.roles checks).
    assert dict(StaffRole.objects.values_list("key", "group__name")) == {
        name: name for name in ("Moderator", "Supervisor", "Auditor", "Administrator", "Specialist")
    }
    administrator = Group.objects.get(name="Administrator")
    codenames = set(administrator.permissions.values_list("codename", flat=True))
    assert {"change_platform", "add_sourceorganisation", "change_user"} <= codenames
    # Nothing the audit trail points at is ever deleted. The two exceptions are sign-in
    # state, not records: resetting someone's TOTP device, and lifting a lockout early.
    deletable = {c for c in codenames if c.startswith("delete_")}
    assert deletable == {"delete_totpdevice", "delete_accessattempt"}
