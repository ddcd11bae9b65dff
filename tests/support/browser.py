"""Helpers for browser tests (Playwright + Debian's Chromium, see the `page` fixture)."""

from __future__ import annotations

from tests.support import ROOT
from tests.support.factories import PASSWORD

# Screenshots: every browser test leaves one of its last page here (see the `page` fixture).
ARTIFACTS = ROOT / "test-artifacts"


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, as a person would. Every browser test signs in
    through here, so that a change to the sign-in steps (e.g. two-factor) is made once.

    When the password leads to the two-factor step, the current code of the person's
    authenticator is typed in; a person who has none yet gets a confirmed device first."""
    from django.contrib.auth import get_user_model

    from tests.support.signin import device_for, totp_code

    page.goto(base_url.rstrip("/") + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/account/two-factor/" not in page.url:
        return
    device = device_for(get_user_model().objects.get(username=username))
    if "/account/two-factor/enrol/" in page.url:
        page.goto(page.url.replace("/account/two-factor/enrol/", "/account/two-factor/"))
    page.get_by_label("Six-digit code from your authenticator app").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
