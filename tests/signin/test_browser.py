"""A real browser signs in as each kind of staff and lands on its home page."""

from __future__ import annotations

import re

import pytest

from config.roles import Role
from tests.support.browser import sign_in
from tests.support.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_moderator_signs_in_and_sees_the_queue(page, site_server):
    UserFactory(username="dewi", roles=[Role.MODERATOR])
    page.goto(site_server.url + "/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("dewi")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/queue/$"))
    assert page.get_by_role("heading", name="Review queue").is_visible()
    assert "dewi" in page.locator(".whoami").inner_text()


def test_the_language_switch_works_without_inline_script(page, site_server):
    UserFactory(username="siti", roles=[Role.SUPERVISOR])
    sign_in(page, site_server.url, "siti")
    page.wait_for_url(re.compile(r"/queue/$"))
    page.select_option("#language-select", "id")
    page.wait_for_selector("html[lang=id]")
    assert page.get_by_role("heading", name="Antrean peninjauan").is_visible()
