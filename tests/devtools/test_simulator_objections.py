"""The operator simulator speaks docs/objections.md too: it takes restore requests exactly as
takedown requests (signature, Idempotency-Key, faults) and calls back `restored`, and it
forwards objections to Saring signed with the callback secret."""

from __future__ import annotations

import base64
import json
import threading
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


class Saring:
    """A stand-in for Saring's side on loopback: answers every POST and GET with `answer`
    and keeps what it was sent, headers and all."""

    def __init__(self, status: int = 201, answer: dict | None = None) -> None:
        self.received: list[tuple[str, str, dict, bytes]] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.received.append((self.command, self.path, dict(self.headers), body))
                data = json.dumps(answer or {"objection": "KB-2222-3333"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                outer.arrived.set()

            do_POST = do_GET = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def saring():
    server = Saring()
    yield server
    server.stop()


def restore_request(request_id: str | None = None, callback_url: str = "") -> dict:
    return {
        "request_id": request_id or str(uuid.uuid4()),
        "platform": "michat",
        "takedown_request_id": str(uuid.uuid4()),
        "account": {
            "identifier": "+6281234567890",
            "display_name": "Batik Sari",
            "profile_url": "",
        },
        "objection": {"id": "KB-2222-3333", "reference": None, "outcome": "granted", "reason": "-"},
        "issued_at": "2026-12-05T11:00:00Z",
        "callback_url": callback_url,
    }


def post_restore(sim, payload: dict, *, secret: str = SIGNING, key: str | None = None):
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key or payload["request_id"],
        **signing.signed_headers(secret, body),
    }
    return requests.post(sim.restore_endpoint("michat"), data=body, headers=headers, timeout=5)


def genuine(secret: str, headers: dict, body: bytes) -> bool:
    return (
        signing.verify(
            secret,
            timestamp=headers[signing.TIMESTAMP_HEADER],
            signature=headers[signing.SIGNATURE_HEADER],
            body=body,
        )
        is None
    )


def test_it_takes_a_restore_once_per_key_and_apart_from_takedowns(simulator):
    payload = restore_request()
    first = post_restore(simulator, payload)
    again = post_restore(simulator, payload)
    assert first.status_code == 201
    assert first.json()["reference"].startswith("SIM-RESTORE-MICHAT-")
    assert again.status_code == 409
    assert again.json()["reference"] == first.json()["reference"]
    assert list(simulator.restores) == [payload["request_id"]]
    assert simulator.received == {}
    stats = simulator.stats()
    assert (stats["restores_accepted"], stats["restores_duplicates"]) == (1, 1)
    assert (stats["accepted"], stats["distinct_restores"]) == (0, 1)
    listing = requests.get(f"{simulator.url}/_restores", timeout=5).json()
    assert listing[payload["request_id"]]["deliveries"] == 2


def test_it_refuses_a_restore_with_a_bad_signature_or_a_key_that_is_not_the_request_id(simulator):
    assert post_restore(simulator, restore_request(), secret=CALLBACK).status_code == 401
    assert post_restore(simulator, restore_request(), key="other").status_code == 400
    assert simulator.restores == {}


def test_its_fault_switches_apply_to_restores(simulator):
    simulator.switches.update({"next_faults": ["503", "429"], "retry_after": 3})
    payload = restore_request()
    assert post_restore(simulator, payload).status_code == 503
    throttled = post_restore(simulator, payload)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert post_restore(simulator, payload).status_code == 201
    assert [(a.kind, a.fault, a.status) for a in simulator.arrivals] == [
        ("restore", "503", 503),
        ("restore", "429", 429),
        ("restore", "", 201),
    ]


def test_it_calls_back_restored_signed_with_the_callback_secret(simulator, saring):
    simulator.switches.callback_delay = 0.0
    payload = restore_request(callback_url=f"{saring.url}/api/v1/operators/michat/callbacks/")
    assert post_restore(simulator, payload).status_code == 201
    assert saring.arrived.wait(10), "no callback arrived"
    method, path, headers, body = saring.received[0]
    assert (method, path) == ("POST", "/api/v1/operators/michat/callbacks/")
    assert genuine(CALLBACK, headers, body)
    outcome = json.loads(body)
    assert (outcome["request_id"], outcome["status"]) == (payload["request_id"], "restored")


def test_it_forwards_an_objection_signed_with_the_callback_secret(simulator, saring):
    picture = b"\x89PNG pretend"
    answer = simulator.forward_objection(
        "michat",
        "6f1c0000-0000-4000-8000-000000000001",
        "My shop sells batik.",
        reference="op-obj-1",
        contact={"name": "Sari"},
        attachments=[("toko.png", picture)],
        saring_url=saring.url,
    )
    assert answer.status_code == 201
    method, path, headers, body = saring.received[0]
    assert (method, path) == ("POST", "/api/v1/operators/michat/objections/")
    assert genuine(CALLBACK, headers, body)
    assert json.loads(body) == {
        "objection_reference": "op-obj-1",
        "request_id": "6f1c0000-0000-4000-8000-000000000001",
        "statement": "My shop sells batik.",
        "contact": {"name": "Sari"},
        "attachments": [
            {"filename": "toko.png", "content_base64": base64.b64encode(picture).decode()}
        ],
    }
    assert simulator.objections[0]["status"] == 201


def test_it_finds_saring_where_the_takedown_request_said_and_reads_an_outcome(simulator, saring):
    takedown = {
        "request_id": str(uuid.uuid4()),
        "callback_url": f"{saring.url}/api/v1/operators/michat/callbacks/",
    }
    body = json.dumps(takedown).encode()
    headers = {"Idempotency-Key": takedown["request_id"], **signing.signed_headers(SIGNING, body)}
    assert requests.post(simulator.endpoint("michat"), data=body, headers=headers, timeout=5).ok
    simulator.forward_objection("michat", takedown["request_id"], "Not me.")
    read = simulator.read_objection("michat", "KB-2222-3333")
    assert read.status_code == 201  # what the stand-in answers to everything
    (_, posted, _, sent), (method, path, headers, body) = saring.received
    assert posted == "/api/v1/operators/michat/objections/"
    assert json.loads(sent)["objection_reference"].startswith("SIM-OBJ-")
    assert (method, path, body) == ("GET", "/api/v1/operators/michat/objections/KB-2222-3333/", b"")
    assert genuine(CALLBACK, headers, b"")


def test_its_control_endpoint_forwards_an_objection_and_says_what_saring_answered(
    simulator, saring
):
    simulator.saring_url = saring.url
    order = {"platform": "michat", "request_id": str(uuid.uuid4()), "statement": "Not me."}
    response = requests.post(f"{simulator.url}/_objections", json=order, timeout=10)
    assert response.json() == {"status": 201, "answer": {"objection": "KB-2222-3333"}}
    bad = requests.post(f"{simulator.url}/_objections", json={"platform": "michat"}, timeout=10)
    assert bad.status_code == 400
