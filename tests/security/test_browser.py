"""In a real browser: a supervisor enrols in two-factor sign-in by QR code and signs in
with a TOTP code; and no page the browser opens breaks the Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.roles import Role
from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, UserFactory
from tests.support.signin import code_for_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_supervisor_enrols_by_qr_code_and_signs_in_with_a_code(page, site_server):
    user = UserFactory(username="siti", roles=[Role.SUPERVISOR])
    base = site_server.url
    password_step(page, base, "siti")
    # No device yet: every page leads to enrolment.
    page.wait_for_url(re.compile(r"/account/two-factor/enrol/"))
    page.goto(base + "/queue/")
    page.wait_for_url(re.compile(r"/account/two-factor/enrol/"))
    qr = page.get_by_role("img", name=re.compile("Cannot scan it"))
    assert qr.locator("svg").is_visible()
    # "Scan": what the QR code holds is also its text alternative, the key to type in.
    secret = qr.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Six-digit code from your authenticator app").fill(code_for_secret(secret))
    page.get_by_role("button", name="Confirm and turn on").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    assert page.get_by_role("heading", name="Review queue").is_visible()
    assert TOTPDevice.objects.get(user=user).confirmed

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))
    password_step(page, base, "siti")
    page.wait_for_url(re.compile(r"/account/two-factor/\?next="))
    page.goto(base + "/supervision/")  # still nothing before the code
    page.wait_for_url(re.compile(r"/account/two-factor/\?next=%2Fsupervision%2F"))
    page.goto(base + "/account/two-factor/")
    # The app shows a new code each 30 s; the one just used is spent, so take the next.
    page.get_by_label("Six-digit code from your authenticator app").fill(
        code_for_secret(secret, steps_ahead=1)
    )
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    assert page.get_by_role("heading", name="Review queue").is_visible()


def test_no_page_breaks_the_content_security_policy(page, site_server):
    UserFactory(username="hendra", is_staff=True, roles=[Role.ADMINISTRATOR, Role.SUPERVISOR])
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    base = site_server.url
    page.goto(base + "/login/")
    sign_in(page, base, "hendra")
    for path in [
        "/queue/",
        "/supervision/",
        "/account/",
        "/account/password/",
        "/admin/",
        "/admin/auth/user/",
        "/admin/otp_totp/totpdevice/",
        "/api/docs/",
    ]:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert "/login/" not in page.url and "/two-factor/" not in page.url, page.url
    page.goto(base + "/api/docs/")
    page.wait_for_selector(".swagger-ui", timeout=15_000)
    assert not violations, "\n".join(violations)
    # The watcher does see a violation: an injected inline script is refused and reported.
    page.goto(base + "/queue/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.head.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.injected === undefined")
    assert any("inline script" in violation for violation in violations), violations
