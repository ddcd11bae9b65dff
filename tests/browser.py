"""Helpers for browser tests (Playwright + Debian's Chromium, see the `page` fixture)."""

from __future__ import annotations

from tests.factories import PASSWORD


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, as a person would. Every browser test signs in
    through here, so that a change to the sign-in steps (e.g. two-factor) is made once."""
    page.goto(base_url.rstrip("/") + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
