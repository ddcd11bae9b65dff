"""The site's pages at a glance: the login page, each demo person's home after signing in,
a person without a role, the header, the language switch, signing out, health, the API docs
and "not found". Who may open which page is the role matrix's (tests/security/)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from devtools.management.commands.seed_demo import DEMO_PASSWORD, DEMO_STAFF, DEMO_TOTP_SECRETS
from tests.support.signin import code_for_secret

pytestmark = pytest.mark.django_db

HOMES = {
    "moderator": "/queue/",
    "moderator2": "/queue/",
    "supervisor": "/queue/",
    "supervisor2": "/queue/",
    "auditor": "/audit/",
    "admin": "/admin/",
}


def test_it_shows_the_login_page_to_anyone():
    response = Client().get("/login/")
    assert response.status_code == 200
    assert b"Sign in to Saring" in response.content


@pytest.mark.parametrize("username", [staff[0] for staff in DEMO_STAFF])
def test_every_demo_login_reaches_its_roles_home(username):
    call_command("seed_demo", reports=30, stdout=io.StringIO())
    client = Client()
    response = client.post(
        "/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True
    )
    if username in DEMO_TOTP_SECRETS:  # the second step, with the secret seed_demo prints
        assert response.redirect_chain[-1][0].startswith("/account/two-factor/")
        response = client.post(
            response.redirect_chain[-1][0],
            {"token": code_for_secret(DEMO_TOTP_SECRETS[username])},
            follow=True,
        )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == HOMES[username]
    assert username.encode() in response.content


def test_a_wrong_password_is_refused_with_a_message():
    call_command("seed_demo", reports=0, stdout=io.StringIO())
    response = Client().post("/login/", {"username": "moderator", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_a_user_without_a_role_is_told_so(client_for):
    from tests.support.factories import UserFactory

    response = client_for(UserFactory()).get("/")
    assert response.status_code == 403
    assert b"No role assigned" in response.content


def test_the_header_links_only_to_the_users_pages(client_for, moderator):
    page = client_for(moderator).get("/queue/").content.decode()
    assert 'href="/queue/"' in page
    assert 'href="/supervision/"' not in page
    assert 'href="/audit/"' not in page


def test_the_language_switch_shows_bahasa_indonesia(client_for, moderator):
    client = client_for(moderator)
    client.post(reverse("set_language"), {"language": "id", "next": "/queue/"})
    page = client.get("/queue/").content.decode()
    assert 'lang="id"' in page
    assert "Antrean peninjauan" in page


def test_signing_out_ends_the_session(client_for, moderator):
    client = client_for(moderator)
    client.post("/logout/")
    assert client.get("/queue/")["Location"].startswith("/login/")


def test_the_api_docs_are_served_from_local_files():
    page = Client().get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200


def test_an_unknown_api_address_answers_problem_json_and_a_page_answers_html():
    api = Client().get("/api/v1/no-such-thing/")
    assert (api.status_code, api["Content-Type"]) == (404, "application/problem+json")
    assert api.json()["status"] == 404
    page = Client().get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
