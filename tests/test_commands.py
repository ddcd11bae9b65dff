from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounts.models import ChatAccount, Platform
from moderation.models import Case, LegalBasis
from reports.models import Report, SourceOrganisation

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_seed_demo_loads_everything_once():
    first = run("seed_demo", reports=200)
    counts = (
        Report.objects.count(),
        Case.objects.count(),
        ChatAccount.objects.count(),
        User.objects.count(),
        Platform.objects.count(),
        SourceOrganisation.objects.count(),
        LegalBasis.objects.count(),
    )
    second = run("seed_demo", reports=200)
    again = (
        Report.objects.count(),
        Case.objects.count(),
        ChatAccount.objects.count(),
        User.objects.count(),
        Platform.objects.count(),
        SourceOrganisation.objects.count(),
        LegalBasis.objects.count(),
    )
    assert "Demo data loaded: 200 reports" in first
    assert "nothing added" in second
    assert counts == again
    assert set(Platform.objects.values_list("slug", flat=True)) == {
        "michat",
        "telegram",
        "whatsapp",
    }
    assert set(SourceOrganisation.objects.values_list("slug", flat=True)) == {"kominfo", "polri"}
    assert {"moderator", "moderator2", "supervisor", "supervisor2", "auditor", "admin"} <= set(
        User.objects.values_list("username", flat=True)
    )


def test_seed_demo_makes_realistic_reports():
    run("seed_demo", reports=300)
    identifiers = list(ChatAccount.objects.values_list("identifier", flat=True))
    phones = [i for i in identifiers if i.startswith("+628")]
    assert phones and len(phones) < len(identifiers)  # phone numbers and handles
    submitted = set(Report.objects.values_list("account_identifier_submitted", flat=True))
    assert any(s.startswith("0") for s in submitted) and any(
        s.startswith("+62 ") for s in submitted
    )
    top = Report.objects.values_list("category", flat=True)
    assert sum(1 for c in top if c == "prostitution") > len(top) / 3
    assert Case.objects.filter(report_count__gt=1).exists()
    # Cases carry what the queue orders by: most important first.
    assert Case.objects.order_by("-priority").first().priority > 0


def test_configure_platform_creates_then_updates():
    out = run(
        "configure_platform",
        "lineapp",
        "--endpoint",
        "https://ops.line.example/takedown",
        "--name",
        "LINE",
    )
    platform = Platform.objects.get(slug="lineapp")
    assert "Created platform lineapp" in out
    assert f"signing_secret: {platform.signing_secret}" in out  # generated, printed once
    old_secret = platform.signing_secret
    out = run("configure_platform", "lineapp", "--rate-limit", "2.5", "--inactive")
    platform.refresh_from_db()
    assert "Updated platform lineapp" in out
    assert (platform.rate_limit_per_second, platform.active) == (2.5, False)
    assert platform.signing_secret == old_secret
    assert "secret" not in out


def test_configure_platform_explains_bad_input():
    with pytest.raises(CommandError, match="does not exist yet: give --endpoint"):
        run("configure_platform", "newone")
    with pytest.raises(CommandError, match="endpoint_url"):
        run("configure_platform", "newone", "--endpoint", "not a url")
    with pytest.raises(CommandError, match="at least 32 characters"):
        run(
            "configure_platform",
            "newone",
            "--endpoint",
            "https://x.example/",
            "--signing-secret",
            "short",
        )
    with pytest.raises(CommandError, match="rate_limit_per_second"):
        run("configure_platform", "newone", "--endpoint", "https://x.example/", "--rate-limit", "0")
    assert not Platform.objects.filter(slug="newone").exists()


def test_configuring_a_platform_is_audited_without_its_secrets():
    from moderation.models import AuditEvent

    run("configure_platform", "lineapp", "--endpoint", "https://ops.line.example/takedown")
    platform = Platform.objects.get(slug="lineapp")
    created = AuditEvent.objects.get(action="platform.created")
    assert created.subject_id == str(platform.pk)
    assert created.data["secrets_rotated"] == ["callback_secret", "signing_secret"]
    new_secret = "n" * 40
    run("configure_platform", "lineapp", "--signing-secret", new_secret, "--rate-limit", "3")
    changed = AuditEvent.objects.get(action="platform.changed")
    assert changed.data["after"] == {"rate_limit_per_second": 3.0}
    assert changed.data["before"] == {"rate_limit_per_second": 5.0}
    assert changed.data["secrets_rotated"] == ["signing_secret"]
    for event in AuditEvent.objects.all():
        text = str(event.data)
        assert platform.callback_secret not in text and new_secret not in text
    run("configure_platform", "lineapp", "--rate-limit", "3")  # no change, no event
    assert AuditEvent.objects.filter(action__startswith="platform.").count() == 2


def test_a_platform_changed_in_the_admin_is_audited(client_for, administrator):
    from moderation.models import AuditEvent
    from tests.factories import PlatformFactory

    platform = PlatformFactory(slug="michat", rate_limit_per_second=5.0)
    response = client_for(administrator).post(
        f"/admin/accounts/platform/{platform.pk}/change/",
        {
            "slug": platform.slug,
            "name": platform.name,
            "endpoint_url": "https://operator.example/takedowns",
            "signing_secret": "",  # left empty: the secret is kept, not rotated
            "callback_secret": "",
            "profile_url_pattern": "",
            "active": "on",
            "rate_limit_per_second": "7.5",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="platform.changed")
    assert event.actor_label == administrator.username
    assert event.data["after"] == {
        "endpoint_url": "https://operator.example/takedowns",
        "rate_limit_per_second": 7.5,
    }
    assert event.data["secrets_rotated"] == []
