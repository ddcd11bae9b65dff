"""The operator edge (the rules issue): where requests may go, what of an answer is kept, how
throttling and lost workers are counted, callbacks of deactivated platforms, and what a
database outage answers. Real HTTP on loopback, real PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from accounts.endpoints import endpoint_problem, validate_endpoint
from moderation.models import DeliveryAttempt, TakedownRequest
from moderation.takedowns import services as takedowns
from scripts.dev import free_port
from tests.support.takedowns import (
    FAST,
    CannedOperator,
    callback,
    outcome,
    outcomes,
    platform_for,
    proposal,
    simulator_for,
)


@pytest.fixture
def simulator():
    sim = simulator_for("michat")
    yield sim
    sim.stop()


def approved(moderator, supervisor, platform) -> TakedownRequest:
    decision = proposal(moderator=moderator, platform=platform)
    return takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)


# --- where requests may go --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        "https://[fe80::1]/takedowns",
        "https://10.0.0.5/takedowns",
        "https://192.168.1.1/takedowns",
        "https://[::ffff:169.254.169.254]/",
        "https://0.0.0.0/",
        "http://operator.example/takedowns",
        "ftp://operator.example/takedowns",
        "https://user:pass@operator.example/takedowns",
        "https://operator.example:99999/takedowns",  # URLValidator lets this port through
    ],
)
def test_an_endpoint_inside_our_network_or_not_https_is_refused_even_in_tests(url):
    with pytest.raises(ValidationError):
        validate_endpoint(url)


@override_settings(OPERATOR_ENDPOINTS_LOOPBACK=False)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8025/michat", "https://127.0.0.1/", "https://localhost/t"]
)
def test_in_production_a_loopback_endpoint_is_refused(url):
    assert "loopback" in (endpoint_problem(url) or "")


def test_a_public_https_endpoint_and_in_tests_the_loopback_simulator_are_accepted():
    assert endpoint_problem("https://ops.michat.example/takedowns") is None
    assert endpoint_problem("http://127.0.0.1:8025/michat/takedowns") is None


def test_configure_platform_refuses_the_metadata_address(db):
    with pytest.raises(CommandError, match="link-local"):
        call_command(
            "configure_platform",
            "evil",
            endpoint="http://169.254.169.254/latest/meta-data/",
            stdout=None,
        )


@override_settings(**FAST)
def test_a_saved_endpoint_that_now_points_inward_gets_nothing_sent(
    simulator, moderator, supervisor, settings
):
    """Checked again before each delivery: here the simulator's loopback address is what a
    production endpoint's name would have come to resolve to."""
    platform = platform_for(simulator)
    request = approved(moderator, supervisor, platform)
    settings.OPERATOR_ENDPOINTS_LOOPBACK = False
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "endpoint_refused"
    request.refresh_from_db()
    assert request.status == "pending" and request.failures == 1
    assert "loopback" in request.last_error
    assert simulator.stats()["requests"] == 0


@override_settings(**FAST)
def test_a_dns_answer_changed_after_the_check_does_not_move_the_connection(
    moderator, supervisor, monkeypatch
):
    """DNS rebinding: the name resolves to an allowed address when checked and to another
    when the connection would open. The delivery goes to the checked address, with the name
    in its Host header; the other server (standing in for 169.254.169.254) gets nothing."""
    checked = CannedOperator(200, b'{"reference": "OK-1"}')
    rebound = CannedOperator(200, b'{"reference": "stolen"}', address=("127.0.0.2", checked.port))
    real = socket.getaddrinfo
    answers = []

    def rebinding(host, *args, **kwargs):
        if host != "localhost":
            return real(host, *args, **kwargs)
        answers.append(host)
        return real("127.0.0.1" if len(answers) == 1 else "127.0.0.2", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        platform = platform_for(None)
        platform.endpoint_url = f"http://localhost:{checked.port}/michat/takedowns"
        platform.save(update_fields=["endpoint_url"])
        request = approved(moderator, supervisor, platform)
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "acknowledged"
        assert len(checked.received) == 1 and rebound.received == []
        assert checked.hosts == [f"localhost:{checked.port}"]
        assert answers == ["localhost"]  # resolved once, for the check; never again
    finally:
        checked.stop()
        rebound.stop()


def test_an_https_endpoint_is_reached_at_its_checked_address_and_verified_by_its_name():
    from requests import Request

    from moderation.takedowns.services.delivery import _PinnedAdapter

    adapter = _PinnedAdapter()
    adapter.address = "203.0.113.7"
    prepared = Request("POST", "https://operator.example:8443/takedowns").prepare()
    host, pool = adapter.build_connection_pool_key_attributes(prepared, True)
    assert (host["host"], host["port"], host["scheme"]) == ("203.0.113.7", 8443, "https")
    assert pool["server_hostname"] == pool["assert_hostname"] == "operator.example"
    assert pool["cert_reqs"] == "CERT_REQUIRED"  # the certificate is verified, against the name


def test_an_internationalised_endpoint_name_is_sent_in_its_ascii_form():
    from moderation.takedowns.services.delivery import _host_header

    assert _host_header("https://bücher.example:8443/takedowns") == "xn--bcher-kva.example:8443"


# --- what an answer may do ----------------------------------------------------------------------


@override_settings(**FAST)
def test_a_307_is_recorded_as_an_error_and_nothing_is_sent_to_the_new_location(
    moderator, supervisor
):
    elsewhere = CannedOperator(200, b'{"reference": "stolen"}')
    redirecting = CannedOperator(307, headers={"Location": f"{elsewhere.url}/steal"})
    try:
        platform = platform_for(None)
        platform.endpoint_url = f"{redirecting.url}/michat/takedowns"
        platform.save(update_fields=["endpoint_url"])
        request = approved(moderator, supervisor, platform)
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "redirected"
        request.refresh_from_db()
        assert request.status == "pending" and request.failures == 1
        assert "HTTP 307" in request.last_error and "not followed" in request.last_error
        assert len(redirecting.received) == 1
        assert elsewhere.received == []
    finally:
        elsewhere.stop()
        redirecting.stop()


@override_settings(**FAST)
def test_an_operators_answer_is_kept_as_a_short_printable_excerpt(moderator, supervisor):
    noisy = b"\x1b[31mERROR\x1b[0m\r\n" + b"x" * 5000 + b"\x00\x07<script>"
    operator = CannedOperator(500, noisy)
    try:
        platform = platform_for(None)
        platform.endpoint_url = f"{operator.url}/michat/takedowns"
        platform.save(update_fields=["endpoint_url"])
        request = approved(moderator, supervisor, platform)
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "server_error"
        attempt = DeliveryAttempt.objects.get(request=request)
        assert attempt.error.startswith("HTTP 500: [31mERROR [0m xxx")
        assert len(attempt.error) <= 220 and attempt.error.endswith("…")
        assert not any(ord(c) < 32 or ord(c) == 127 for c in attempt.error)
    finally:
        operator.stop()


@override_settings(**FAST, TAKEDOWN_RETRY_AFTER_MAX_SECONDS=2.0)
def test_an_absurd_retry_after_waits_only_the_documented_cap(simulator, moderator, supervisor):
    platform = platform_for(simulator)
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"rate_429": 1.0, "retry_after": 10**40})
    before = timezone.now()
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
    request.refresh_from_db()
    assert 1.9 <= (request.next_attempt_at - before).total_seconds() <= 2.5


@override_settings(**FAST, TAKEDOWN_RETRY_AFTER_MAX_SECONDS=60.0)
@pytest.mark.parametrize(("header", "low", "high"), [("9" * 5000, 59, 61), ("0", 0.9, 1.6)])
def test_a_retry_after_of_thousands_of_digits_or_of_zero_waits_between_the_bounds(
    moderator, supervisor, header, low, high
):
    operator = CannedOperator(429, b"slow down", {"Retry-After": header})
    try:
        platform = platform_for(None)
        platform.endpoint_url = f"{operator.url}/michat/takedowns"
        platform.save(update_fields=["endpoint_url"])
        request = approved(moderator, supervisor, platform)
        before = timezone.now()
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
        request.refresh_from_db()
        assert low <= (request.next_attempt_at - before).total_seconds() <= high
    finally:
        operator.stop()


# --- what counts as a failed attempt ------------------------------------------------------------


@override_settings(**FAST, TAKEDOWN_THROTTLED_GIVE_UP_SECONDS=3600)
def test_429s_for_five_minutes_leave_every_request_pending_and_all_are_delivered_after(
    simulator, moderator, supervisor
):
    platform = platform_for(simulator)
    requests = [approved(moderator, supervisor, platform) for _ in range(4)]
    simulator.switches.update({"rate_429": 1.0, "retry_after": 0})
    for round_ in range(12):  # far more 429s than TAKEDOWN_MAX_ATTEMPTS (5)
        if round_ == 6:  # the throttling began five minutes ago
            TakedownRequest.objects.update(throttled_since=timezone.now() - timedelta(minutes=5))
        TakedownRequest.objects.update(next_attempt_at=timezone.now())  # the wait is over
        for request in requests:
            assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
    for request in requests:
        request.refresh_from_db()
        assert (request.status, request.failures, request.attempts) == ("pending", 0, 12)
    simulator.switches.update({"rate_429": 0.0})
    TakedownRequest.objects.update(next_attempt_at=timezone.now())
    for request in requests:
        assert takedowns.takedown_deliver(request_id=str(request.pk)) == "acknowledged"
        request.refresh_from_db()
        assert request.status == "acknowledged" and request.throttled_since is None
        assert outcomes(request.pk) == ["throttled"] * 12 + ["acknowledged"]
    assert sorted(simulator.received) == sorted(str(r.pk) for r in requests)
    assert all(r.deliveries == 1 for r in simulator.received.values())


@override_settings(**FAST, TAKEDOWN_THROTTLED_GIVE_UP_SECONDS=0.5)
def test_throttling_longer_than_the_give_up_time_dead_letters_the_request(
    simulator, moderator, supervisor
):
    platform = platform_for(simulator)
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"rate_429": 1.0, "retry_after": 0})
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
    time.sleep(0.6)
    TakedownRequest.objects.filter(pk=request.pk).update(next_attempt_at=timezone.now())
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "throttled"
    request.refresh_from_db()
    assert request.status == "failed" and "given up" in request.last_error
    takedowns.takedown_retry(request_id=request.pk, supervisor=supervisor)
    request.refresh_from_db()
    assert (request.status, request.failures, request.throttled_since) == ("pending", 0, None)


@pytest.mark.django_db(transaction=True)
@override_settings(
    **(FAST | {"TAKEDOWN_MAX_ATTEMPTS": 2, "OPERATOR_TIMEOUT_SECONDS": 1.0}),
    TAKEDOWN_STUCK_AFTER_SECONDS=0,
)
def test_attempts_lost_with_their_worker_do_not_count_as_failures(simulator, moderator, supervisor):
    platform = platform_for(simulator)
    request = approved(moderator, supervisor, platform)
    simulator.switches.update({"hang_rate": 1.0, "hang_seconds": 2})
    for _ in range(3):  # more lost attempts than TAKEDOWN_MAX_ATTEMPTS
        TakedownRequest.objects.filter(pk=request.pk).update(next_attempt_at=None)
        worker = threading.Thread(
            target=lambda: takedowns.takedown_deliver(request_id=str(request.pk))
        )
        worker.start()
        deadline = time.monotonic() + 5
        while TakedownRequest.objects.get(pk=request.pk).status != "sent":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert str(request.pk) in takedowns.takedown_sweep()  # the worker is given up for lost
        worker.join(5)
    request.refresh_from_db()
    assert (request.status, request.failures, request.attempts) == ("pending", 0, 3)
    errors = DeliveryAttempt.objects.filter(request=request).values_list("error", flat=True)
    assert len(errors) == 3 and all("moved on meanwhile" in error for error in errors)


# --- callbacks and outages ------------------------------------------------------------------------


@override_settings(**FAST)
def test_a_callback_from_a_deactivated_platform_is_refused_and_changes_nothing(
    simulator, moderator, supervisor
):
    platform = platform_for(simulator)
    request = approved(moderator, supervisor, platform)
    assert takedowns.takedown_deliver(request_id=str(request.pk)) == "acknowledged"
    platform.active = False
    platform.save(update_fields=["active"])
    response = callback(platform, outcome(request))
    assert response.status_code == 403
    assert response.json() == {"error": "the platform is deactivated"}
    request.refresh_from_db()
    assert request.status == "acknowledged"


def test_a_non_ascii_signature_or_timestamp_is_a_401_not_a_500(db):
    platform = platform_for(None)
    for headers in (
        {"X-Saring-Timestamp": str(int(time.time())), "X-Saring-Signature": "sha256=é"},
        {"X-Saring-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Saring-Signature": "sha256=00"},
    ):
        response = Client().post(
            f"/api/v1/operators/{platform.slug}/callbacks/",
            data=b"{}",
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 401, response.content


@pytest.mark.django_db(transaction=True)
def test_approving_while_the_database_is_down_answers_503_try_again(
    moderator, supervisor, client_for
):
    platform = platform_for(None)
    decision = proposal(moderator=moderator, platform=platform)
    client = client_for(supervisor)
    client.raise_request_exception = False
    settings_dict = connection.settings_dict
    port = settings_dict.get("PORT")
    connection.close()
    settings_dict["PORT"] = str(free_port())  # nothing listens there: PostgreSQL is "down"
    try:
        response = client.post(f"/approvals/{decision.pk}/approve/", {"version": 1})
        api = Client(raise_request_exception=False).post(
            "/api/v1/reports/", data={}, headers={"Authorization": "Bearer not-checked-yet"}
        )
    finally:
        connection.close()
        settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was saved" in response.content.decode()
    assert api.status_code == 503 and api["Content-Type"] == "application/problem+json"
    assert not TakedownRequest.objects.exists()
