"""A stand-in platform operator, for the demo, the tests and the benchmarks.

It implements the operator's side of DESIGN.md "Takedown request to an operator" over real
HTTP: checks the signature and freshness, records each request by its Idempotency-Key
(answering 409 with the same reference to a repeat), answers with a reference, and calls
back later with the outcome, signed with the callback secret. Switches make it misbehave:
a share of 503s, of 429s with Retry-After, added latency, hanging connections or reset ones
— each before it acts — and a share it acts on (the takedown is done) and then fails to
answer: a 503, a reset, or an answer that comes too late. `next_faults` names the faults the
next requests get, in order, before the shares apply. The switches can be changed while it
runs (POST /_config), so a test can make it fail for a while, then recover.

Every request it receives is kept in `arrivals` (when, which key, the fault, the answer, and
whether it acted on that one), so a benchmark can count how often it acted on one takedown.

It is the operator's side of docs/objections.md too: restore requests of granted objections
arrive at their own endpoint, are checked, recorded (`restores`) and misbehaved on exactly as
takedown requests, and called back `restored`; and `forward_objection` sends an account
owner's objection to Saring, signed with the callback secret, as an operator would.

    POST /<platform>/takedowns    the operator endpoint
    POST /<platform>/restores     the restore endpoint
    GET  /_stats                  counts: received, duplicates, failures, callbacks
    GET  /_requests               what was received, by Idempotency-Key
    GET  /_restores               the restore requests received, by Idempotency-Key
    POST /_config                 change the switches (JSON)
    POST /_objections             forward an objection to Saring (JSON: platform, request_id,
                                  statement, and optionally reference, contact); answers with
                                  Saring's status and body
"""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from accounts import signing

logger = logging.getLogger("saring.operator_sim")

Secrets = Callable[[str], tuple[str, str] | None]  # platform slug -> (signing, callback)


@dataclass
class Switches:
    failure_rate: float = 0.0  # share of requests answered 503
    rate_429: float = 0.0  # share answered 429 with Retry-After
    retry_after: int = 1
    hang_rate: float = 0.0  # share that never get an answer in time
    hang_seconds: float = 30.0
    latency_ms: int = 0
    callback_delay: float = 2.0  # seconds before calling back; negative: never call back
    not_found_rate: float = 0.0  # share of callbacks saying not_found
    refuse_rate: float = 0.0  # share of callbacks saying refused
    reset_rate: float = 0.0  # share whose connection is reset, unanswered and not acted on
    # Shares the operator acts on (the takedown is done) and then fails to answer:
    acted_503_rate: float = 0.0  # ... with a 503
    acted_reset_rate: float = 0.0  # ... by resetting the connection
    acted_hang_rate: float = 0.0  # ... with its answer only after hang_seconds
    next_faults: list = field(default_factory=list)  # names from FAULTS, for the next requests

    def update(self, values: dict) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise ValueError(f"unknown switch {key!r}")
            if key == "next_faults" and not set(value) <= set(FAULTS):
                raise ValueError(f"next_faults takes only {', '.join(FAULTS)}")
            setattr(self, key, type(getattr(self, key))(value))


# Faults by name, in the order their shares are drawn; the acted_ ones come after the action.
FAULTS = ("hang", "429", "503", "reset", "acted_503", "acted_reset", "acted_hang")


@dataclass
class Received:
    reference: str
    platform: str
    body: dict
    first_at: float
    deliveries: int = 1
    request_ids: set = field(default_factory=set)
    traces: list = field(default_factory=list)  # each delivery's X-Request-Id, in order


@dataclass(frozen=True)
class Arrival:
    """One takedown (or restore) POST as the operator saw it."""

    key: str  # its Idempotency-Key
    at: float  # when it arrived (time.time())
    fault: str  # "" or one of FAULTS
    status: int | None  # the answer's HTTP status; None for a reset connection
    acted: bool  # this is the request the operator acted on
    kind: str = "takedown"  # or "restore"


# What the operator does with each kind of request it acts on, and the outcome it calls back.
KINDS = {"takedowns": "takedown", "restores": "restore"}
DONE = {"takedown": "taken_down", "restore": "restored"}


class OperatorSimulator:
    def __init__(
        self,
        secrets: Secrets | dict[str, tuple[str, str]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        switches: Switches | None = None,
        seed: int | None = None,
        saring_url: str = "",
    ) -> None:
        self._secrets = secrets.get if isinstance(secrets, dict) else secrets
        # Where objections go; without it, the address the takedown's callback_url names.
        self.saring_url = saring_url.rstrip("/")
        self.switches = switches or Switches()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.received: dict[str, Received] = {}
        self.restores: dict[str, Received] = {}  # restore requests, by Idempotency-Key
        self.objections: list[dict] = []  # what forward_objection sent, and the answers
        self.counts = {
            "requests": 0,
            "accepted": 0,
            "duplicates": 0,
            "restores_accepted": 0,
            "restores_duplicates": 0,
            "rejected_signature": 0,
            "failed_503": 0,
            "throttled_429": 0,
            "hung": 0,
            "reset": 0,
            "acted_then_503": 0,
            "acted_then_reset": 0,
            "acted_then_hung": 0,
            "bad_request": 0,
            "callbacks_sent": 0,
            "callbacks_failed": 0,
        }
        self.arrivals: list[Arrival] = []
        self.in_flight = 0
        self.callback_results: list[dict] = []
        self.server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None
        self._timers: list[threading.Timer] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoint(self, platform: str) -> str:
        return f"{self.url}/{platform}/takedowns"

    def restore_endpoint(self, platform: str) -> str:
        return f"{self.url}/{platform}/restores"

    def start(self) -> OperatorSimulator:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def stats(self) -> dict:
        with self.lock:
            return {
                **self.counts,
                "distinct_requests": len(self.received),
                "distinct_restores": len(self.restores),
                "in_flight": self.in_flight,
                "switches": asdict(self.switches),
            }

    # --- the operator's behaviour ------------------------------------------------------

    def handle_takedown(
        self, platform: str, headers, body: bytes, kind: str = "takedown"
    ) -> tuple[int | None, dict, dict]:
        """Return (status, extra headers, JSON body) for one POST to the operator endpoint
        (`kind` "takedown") or the restore endpoint ("restore"); a status of None means:
        reset the connection, answer nothing."""
        with self.lock:
            self.counts["requests"] += 1
            self.in_flight += 1
        try:
            return self._takedown(platform, headers, body, kind)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _takedown(
        self, platform: str, headers, body: bytes, kind: str
    ) -> tuple[int | None, dict, dict]:
        arrived = time.time()
        secrets = self._secrets(platform)
        if secrets is None:
            return 404, {}, {"error": f"unknown platform {platform!r}"}
        problem = signing.verify(
            secrets[0],
            timestamp=headers.get(signing.TIMESTAMP_HEADER),
            signature=headers.get(signing.SIGNATURE_HEADER),
            body=body,
        )
        if problem:
            with self.lock:
                self.counts["rejected_signature"] += 1
            return 401, {}, {"error": problem}
        key = headers.get("Idempotency-Key", "")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not key or not isinstance(payload, dict) or payload.get("request_id") != key:
            with self.lock:
                self.counts["bad_request"] += 1
            return 400, {}, {"error": "Idempotency-Key must equal the body's request_id"}

        switches = self.switches
        if switches.latency_ms:
            time.sleep(switches.latency_ms / 1000)
        fault = self._draw_fault()
        if fault == "hang":
            self._note(key, arrived, fault, 504, "hung", kind=kind)
            time.sleep(switches.hang_seconds)
            return 504, {}, {"error": "hung"}
        if fault == "429":
            self._note(key, arrived, fault, 429, "throttled_429", kind=kind)
            return 429, {"Retry-After": str(switches.retry_after)}, {"error": "slow down"}
        if fault == "503":
            self._note(key, arrived, fault, 503, "failed_503", kind=kind)
            return 503, {}, {"error": "temporarily unavailable"}
        if fault == "reset":
            self._note(key, arrived, fault, None, "reset", kind=kind)
            return None, {}, {}

        trace = headers.get("X-Request-Id", "")
        status, answer, acted = self._act(platform, key, payload, secrets[1], trace, kind=kind)
        if fault == "acted_503":
            self._note(key, arrived, fault, 503, "acted_then_503", acted=acted, kind=kind)
            return 503, {}, {"error": "temporarily unavailable"}
        if fault == "acted_reset":
            self._note(key, arrived, fault, None, "acted_then_reset", acted=acted, kind=kind)
            return None, {}, {}
        self._note(
            key,
            arrived,
            fault,
            status,
            "acted_then_hung" if fault else "",
            acted=acted,
            kind=kind,
        )
        if fault == "acted_hang":
            time.sleep(switches.hang_seconds)
        return status, {}, answer

    def _draw_fault(self) -> str:
        switches = self.switches
        with self.lock:
            if switches.next_faults:
                return switches.next_faults.pop(0)
        rates = (
            switches.hang_rate,
            switches.rate_429,
            switches.failure_rate,
            switches.reset_rate,
            switches.acted_503_rate,
            switches.acted_reset_rate,
            switches.acted_hang_rate,
        )
        for fault, rate in zip(FAULTS, rates, strict=True):
            if self.random.random() < rate:
                return fault
        return ""

    def _note(
        self,
        key: str,
        at: float,
        fault: str,
        status: int | None,
        count: str,
        *,
        acted=False,
        kind: str = "takedown",
    ) -> None:
        with self.lock:
            self.arrivals.append(Arrival(key, at, fault, status, acted, kind))
            if count:
                self.counts[count] += 1

    def _act(
        self,
        platform: str,
        key: str,
        payload: dict,
        callback_secret: str,
        trace: str = "",
        *,
        kind: str = "takedown",
    ):
        """Take the account down (or restore it) once per Idempotency-Key: (status, body,
        acted now)."""
        store = self.received if kind == "takedown" else self.restores
        counted = "" if kind == "takedown" else "restores_"
        with self.lock:
            seen = store.get(key)
            if seen is not None:
                seen.deliveries += 1
                seen.traces.append(trace)
                self.counts[f"{counted}duplicates"] += 1
                return 409, {"reference": seen.reference, "status": "already received"}, False
            prefix = "SIM" if kind == "takedown" else "SIM-RESTORE"
            reference = f"{prefix}-{platform.upper()}-{uuid.uuid4().hex[:10]}"
            store[key] = Received(
                reference=reference,
                platform=platform,
                body=payload,
                first_at=time.time(),
                traces=[trace],
            )
            self.counts[f"{counted}accepted"] += 1
        if self.switches.callback_delay >= 0 and payload.get("callback_url"):
            timer = threading.Timer(
                self.switches.callback_delay,
                self._call_back,
                args=(platform, payload, callback_secret, DONE[kind]),
            )
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        return 201, {"reference": reference}, True

    def _call_back(
        self, platform: str, payload: dict, callback_secret: str, done: str = "taken_down"
    ) -> None:
        roll = self.random.random()
        if roll < self.switches.not_found_rate:
            outcome, reason = "not_found", "The account no longer exists."
        elif roll < self.switches.not_found_rate + self.switches.refuse_rate:
            outcome, reason = "refused", "The operator disputes the order."
        else:
            outcome, reason = done, ""
        body = json.dumps(
            {
                "request_id": payload["request_id"],
                "status": outcome,
                "reason": reason,
                "actioned_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        for attempt in range(5):
            headers = {
                "Content-Type": "application/json",
                **signing.signed_headers(callback_secret, body),
            }
            try:
                response = requests.post(
                    payload["callback_url"], data=body, headers=headers, timeout=10
                )
                result = {"request_id": payload["request_id"], "status": response.status_code}
                if response.status_code < 500:
                    with self.lock:
                        self.counts["callbacks_sent"] += 1
                        self.callback_results.append(result)
                    return
            except requests.RequestException as exc:
                result = {"request_id": payload["request_id"], "error": str(exc)}
            time.sleep(min(2**attempt, 30))
        with self.lock:
            self.counts["callbacks_failed"] += 1
            self.callback_results.append(result)
        logger.warning("callback for %s gave up: %s", payload["request_id"], result)

    # --- objections (docs/objections.md) ------------------------------------------------

    def forward_objection(
        self,
        platform: str,
        request_id: str,
        statement: str,
        *,
        reference: str = "",
        contact: dict | None = None,
        attachments: Iterable[tuple[str, bytes]] = (),
        saring_url: str = "",
    ) -> requests.Response:
        """Forward an account owner's objection to the takedown `request_id`, as the operator
        does: signed with the callback secret, under `reference` (the operator's own id of the
        objection, made up when not given). Returns Saring's answer as it came."""
        secrets = self._secrets(platform)
        if secrets is None:
            raise ValueError(f"unknown platform {platform!r}")
        payload: dict = {
            "objection_reference": reference or f"SIM-OBJ-{uuid.uuid4().hex[:10]}",
            "request_id": str(request_id),
            "statement": statement,
        }
        if contact:
            payload["contact"] = contact
        pictures = [
            {"filename": name, "content_base64": base64.b64encode(data).decode()}
            for name, data in attachments
        ]
        if pictures:
            payload["attachments"] = pictures
        body = json.dumps(payload).encode()
        response = requests.post(
            self._objections_url(platform, str(request_id), saring_url),
            data=body,
            headers={
                "Content-Type": "application/json",
                **signing.signed_headers(secrets[1], body),
            },
            timeout=60,
        )
        _release(response)
        with self.lock:
            self.objections.append(
                {
                    "reference": payload["objection_reference"],
                    "request_id": str(request_id),
                    "status": response.status_code,
                    "answer": _json_or_text(response),
                }
            )
        return response

    def read_objection(
        self, platform: str, code: str, *, saring_url: str = ""
    ) -> requests.Response:
        """Read an objection's outcome (GET, signed over the empty body)."""
        secrets = self._secrets(platform)
        if secrets is None:
            raise ValueError(f"unknown platform {platform!r}")
        url = self._objections_url(platform, "", saring_url) + f"{code}/"
        response = requests.get(url, headers=signing.signed_headers(secrets[1], b""), timeout=30)
        return _release(response)

    def _objections_url(self, platform: str, request_id: str, saring_url: str) -> str:
        base = (saring_url or self.saring_url).rstrip("/")
        if base:
            return f"{base}/api/v1/operators/{platform}/objections/"
        # As a real operator would: Saring's address is the one its takedown request named.
        with self.lock:
            known = [self.received[request_id]] if request_id in self.received else []
            known += [r for r in self.received.values() if r.platform == platform]
        for received in known:
            callback_url = str(received.body.get("callback_url") or "")
            if callback_url.endswith("/callbacks/"):
                return callback_url.removesuffix("callbacks/") + "objections/"
        raise ValueError("where is Saring? give saring_url (no takedown request named it yet)")

    def _handler_class(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _reset(self) -> None:
                """Close with a TCP RST (linger 0), as a crashing peer or a proxy would."""
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.rfile.close()  # the socket closes for real only when its files do
                self.connection.close()

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length > 0 else b""

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path == "/_stats":
                    self._send(200, simulator.stats())
                elif self.path == "/_requests":
                    with simulator.lock:
                        listing = {
                            key: {
                                "reference": r.reference,
                                "platform": r.platform,
                                "deliveries": r.deliveries,
                                "request_ids": r.traces,  # X-Request-Id of each delivery
                                "body": r.body,
                            }
                            for key, r in simulator.received.items()
                        }
                    self._send(200, listing)
                elif self.path == "/_restores":
                    with simulator.lock:
                        listing = {
                            key: {
                                "reference": r.reference,
                                "platform": r.platform,
                                "deliveries": r.deliveries,
                                "body": r.body,
                            }
                            for key, r in simulator.restores.items()
                        }
                    self._send(200, listing)
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                parts = self.path.strip("/").split("/")
                if parts == ["_config"]:
                    try:
                        simulator.switches.update(json.loads(body or b"{}"))
                    except (ValueError, TypeError) as exc:
                        self._send(400, {"error": str(exc)})
                        return
                    self._send(200, asdict(simulator.switches))
                elif parts == ["_objections"]:
                    self._forward(body)
                elif len(parts) == 2 and parts[1] in KINDS:
                    status, headers, payload = simulator.handle_takedown(
                        parts[0], self.headers, body, KINDS[parts[1]]
                    )
                    if status is None:
                        self._reset()
                    else:
                        self._send(status, payload, headers)
                else:
                    self._send(404, {"error": "not found"})

            def _forward(self, body: bytes) -> None:
                """The demo's way to make the operator forward an objection."""
                try:
                    order = json.loads(body or b"{}")
                    response = simulator.forward_objection(
                        str(order["platform"]),
                        str(order["request_id"]),
                        str(order["statement"]),
                        reference=str(order.get("reference") or ""),
                        contact=order.get("contact") or None,
                    )
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
                    return
                except requests.RequestException as exc:
                    self._send(502, {"error": f"Saring did not answer: {exc}"})
                    return
                self._send(200, {"status": response.status_code, "answer": _json_or_text(response)})

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                logger.info("%s %s", self.address_string(), format % args)

        return Handler


def _release(response: requests.Response) -> requests.Response:
    """Read the answer and let its connection go: a response kept by the caller must not
    hold the socket, and with it the server's thread, open."""
    _ = response.content
    response.close()
    return response


def _json_or_text(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the workers' connections arrive in bursts

    def handle_error(self, request, client_address) -> None:
        # A late answer to a client that timed out meets a closed socket: expected here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.info("%s went away before the answer", client_address[0])
            return
        super().handle_error(request, client_address)
