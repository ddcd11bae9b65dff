"""The operator simulator speaks DESIGN.md's outbound contract over real HTTP."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from accounts import signing
from devtools.simulator import OperatorSimulator, Switches

SIGNING = "s" * 40
CALLBACK = "c" * 40


@pytest.fixture
def simulator():
    sim = OperatorSimulator({"michat": (SIGNING, CALLBACK)}, switches=Switches(callback_delay=-1))
    sim.start()
    yield sim
    sim.stop()


def takedown(request_id: str | None = None, callback_url: str = "") -> dict:
    return {
        "request_id": request_id or str(uuid.uuid4()),
        "platform": "michat",
        "account": {"identifier": "+6281234567890", "display_name": "Bella", "profile_url": ""},
        "category": "prostitution",
        "legal_basis": "UU ITE Pasal 27 ayat (1)",
        "urgency": "normal",
        "issued_at": "2026-11-30T01:00:00Z",
        "deadline": "2026-12-01T01:00:00Z",
        "summary": "Open BO",
        "callback_url": callback_url,
    }


def post(sim, payload: dict, *, secret: str = SIGNING, now: float | None = None, platform="michat"):
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": payload["request_id"],
        **signing.signed_headers(secret, body, now=now),
    }
    return requests.post(sim.endpoint(platform), data=body, headers=headers, timeout=5)


def test_it_rejects_a_bad_signature(simulator):
    response = post(simulator, takedown(), secret="not-the-secret" * 3)
    assert response.status_code == 401
    assert response.json()["error"] == "bad signature"
    assert simulator.stats()["accepted"] == 0


def test_it_rejects_a_stale_timestamp(simulator):
    response = post(simulator, takedown(), now=time.time() - 301)
    assert response.status_code == 401
    assert response.json()["error"] == "stale timestamp"


def test_it_rejects_a_tampered_body(simulator):
    payload = takedown()
    body = json.dumps(payload).encode()
    headers = {"Idempotency-Key": payload["request_id"], **signing.signed_headers(SIGNING, body)}
    tampered = body.replace(b"prostitution", b"other")
    response = requests.post(
        simulator.endpoint("michat"), data=tampered, headers=headers, timeout=5
    )
    assert response.status_code == 401


def test_it_accepts_a_signed_request_and_answers_a_repeat_with_409_and_the_same_reference(
    simulator,
):
    payload = takedown()
    first = post(simulator, payload)
    again = post(simulator, payload)
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["reference"] == first.json()["reference"]
    stats = simulator.stats()
    assert (stats["accepted"], stats["duplicates"], stats["distinct_requests"]) == (1, 1, 1)


def test_it_refuses_an_unknown_platform_and_a_key_that_is_not_the_request_id(simulator):
    assert post(simulator, takedown(), platform="nope").status_code == 404
    payload = takedown()
    body = json.dumps(payload).encode()
    headers = {"Idempotency-Key": "other", **signing.signed_headers(SIGNING, body)}
    response = requests.post(simulator.endpoint("michat"), data=body, headers=headers, timeout=5)
    assert response.status_code == 400


def test_its_switches_make_it_fail_then_recover(simulator):
    requests.post(f"{simulator.url}/_config", json={"failure_rate": 1.0}, timeout=5)
    assert post(simulator, takedown()).status_code == 503
    requests.post(
        f"{simulator.url}/_config",
        json={"failure_rate": 0.0, "rate_429": 1.0, "retry_after": 7},
        timeout=5,
    )
    throttled = post(simulator, takedown())
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    requests.post(f"{simulator.url}/_config", json={"rate_429": 0.0}, timeout=5)
    assert post(simulator, takedown()).status_code == 201
    bad = requests.post(f"{simulator.url}/_config", json={"no_such_switch": 1}, timeout=5)
    assert bad.status_code == 400


def test_it_calls_back_with_a_signed_outcome(simulator):
    received: list[tuple[dict, dict]] = []
    arrived = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        simulator.switches.callback_delay = 0.1
        payload = takedown(callback_url=f"http://127.0.0.1:{receiver.server_address[1]}/cb")
        assert post(simulator, payload).status_code == 201
        assert arrived.wait(10), "no callback arrived"
    finally:
        receiver.shutdown()
        receiver.server_close()
    headers, body = received[0]
    assert (
        signing.verify(
            CALLBACK,
            timestamp=headers[signing.TIMESTAMP_HEADER],
            signature=headers[signing.SIGNATURE_HEADER],
            body=body,
        )
        is None
    )
    outcome = json.loads(body)
    assert outcome["request_id"] == payload["request_id"]
    assert outcome["status"] == "taken_down"
    assert "actioned_at" in outcome
