"""One client address (config/http.py `client_ip`) for audit events, the public form's
per-address limit and the sign-in lockout: behind the configured number of reverse proxies,
all three see the client, never the proxy, and never an address the client forged."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory

from config.http import client_ip
from moderation.models import AuditEvent
from tests.support.factories import UserFactory
from tests.support.intake import form_data

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the reverse proxy next to gunicorn: the peer Django sees


def behind_two_proxies(client_address: str, forged: str = "6.6.6.6") -> dict:
    """Headers as they arrive through two proxies: the client forged a first entry, the
    outer proxy appended the client's address, the inner one the outer proxy's."""
    return {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}, 10.0.0.1",
    }


@pytest.fixture(autouse=True)
def _two_proxies(settings):
    settings.SARING_PROXY_HOPS = 2
    settings.ALTCHA_MAX_NUMBER = 500
    cache.clear()


def test_client_ip_takes_the_address_the_outermost_proxy_saw():
    factory = RequestFactory()
    assert client_ip(factory.get("/", **behind_two_proxies("203.0.113.7"))) == "203.0.113.7"


def test_client_ip_falls_back_to_the_peer_when_the_header_is_short_or_not_an_address():
    factory = RequestFactory()
    short = factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    junk = factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="x, not-an-ip, 10.0.0.1")
    assert client_ip(short) == PROXY
    assert client_ip(junk) == PROXY
    assert client_ip(None) is None


def test_client_ip_ignores_the_header_without_proxies(settings):
    settings.SARING_PROXY_HOPS = 0
    request = RequestFactory().get("/", **behind_two_proxies("203.0.113.7"))
    assert client_ip(request) == PROXY


def test_a_failed_sign_in_is_audited_and_locked_out_against_the_client_not_the_proxy():
    UserFactory(username="rina")
    Client().post(
        "/login/",
        {"username": "rina", "password": "wrong-password-1"},
        **behind_two_proxies("203.0.113.7"),
    )
    event = AuditEvent.objects.get(action="auth.signin_failed")
    assert event.ip_address == "203.0.113.7"
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]


def test_the_public_form_limits_and_audits_the_client_not_the_proxy(settings):
    settings.PUBLIC_REPORT_RATE_PER_HOUR = 2
    client = Client()
    codes = [
        client.post(
            "/report/",
            form_data(client, account=f"@akun{i}"),
            # A new forged first entry each time changes nothing: the client is the same.
            **behind_two_proxies("203.0.113.7", forged=f"6.6.6.{i}"),
        ).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]
    # Another citizen behind the same proxy is not held back by the first one's limit.
    other = client.post(
        "/report/", form_data(client, account="@akun9"), **behind_two_proxies("198.51.100.4")
    )
    assert other.status_code == 302
    addresses = set(
        AuditEvent.objects.filter(action="report.received").values_list("ip_address", flat=True)
    )
    assert addresses == {"203.0.113.7", "198.51.100.4"}
