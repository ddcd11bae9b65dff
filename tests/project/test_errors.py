"""Errors to Sentry or GlitchTip (config/errors.py): a real failing request is reported over
real HTTP to a stand-in collector on loopback, and what arrives carries the error and the
request id but none of the personal data or secrets the request held."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import Client, override_settings

from config.errors import mask, scrub, sentry_init
from tests.support.takedowns import wait_for

PERSONAL = (
    "budi.santoso@example.co.id",
    "+62 812-3456-7890",
    "Budi Santoso",
    "secret-session-value",
    "token-abcdef-0123456789",
    "cari-nama-budi",
)


class Collector(ThreadingHTTPServer):
    """Keeps every envelope a Sentry SDK posts to it (decompressed)."""

    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.envelopes.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def collector():
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sentry_init(
        dsn=f"http://publickey@127.0.0.1:{server.server_address[1]}/1",
        environment="test",
        traces_sample_rate=0.0,
    )
    try:
        yield server
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: nothing is sent by later tests
        server.shutdown()


def events(envelopes: list[bytes]) -> list[dict]:
    found = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.project.error_urls", ALLOWED_HOSTS=["testserver"])
def test_an_error_reaches_the_collector_with_its_request_id_and_no_personal_data(collector):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "secret-session-value"
    response = client.post(
        "/broken/?q=cari-nama-budi",
        data={
            "reporter_name": "Budi Santoso",
            "reporter_email": "budi.santoso@example.co.id",
            "reporter_phone": "+62 812-3456-7890",
        },
        headers={"Authorization": "Bearer token-abcdef-0123456789", "X-Request-Id": "req-42"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    found = wait_for(lambda: events(collector.envelopes), timeout=10, what="the error event")
    event = found[0]
    raw = b"\n".join(collector.envelopes).decode()
    for value in PERSONAL:
        assert value not in raw, f"{value!r} was sent"
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "could not file the report of [email] ([number])"
    assert event["tags"]["request_id"] == "req-42"
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])


def test_scrub_keeps_only_the_path_a_few_headers_and_the_users_id():
    event = {
        "request": {
            "url": "https://saring.example.go.id/report/status/AB12CD34EF?lang=id",
            "query_string": "lang=id",
            "data": {"reporter_email": "budi@example.com"},
            "cookies": {"sessionid": "x"},
            "headers": {"User-Agent": "Firefox", "Authorization": "Bearer abc", "Cookie": "x"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": 7, "username": "budi", "email": "budi@example.com"},
        "breadcrumbs": {"values": [{"message": "SELECT ... '081234567890'", "data": {}}]},
    }
    scrubbed = scrub(event)
    assert scrubbed["request"] == {
        "url": "https://saring.example.go.id/report/status/…",
        "headers": {"User-Agent": "Firefox"},
    }
    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "SELECT ... '[number]'"


def test_mask_hides_addresses_numbers_and_secrets_and_keeps_the_rest():
    assert mask("from budi@example.com about 081234567890") == "from [email] about [number]"
    assert mask("call +62 (812) 3456-7890 now") == "call [number] now"
    assert mask("Authorization: Bearer abc.def") == "Authorization: Bearer [secret]"
    assert mask("key " + "ab12" * 10) == "key [secret]"
    assert mask("case 1234 failed at step 7") == "case 1234 failed at step 7"
