"""A small witness for the audit log, standing in for another agency's (tests, `make run`).

A witness remembers the latest checkpoint it accepted from a log and accepts a new one only if
the log's signature holds and a consistency proof shows the new tree extends the old one; then
it cosigns it (an Ed25519 signed-note signature line of its own) and keeps it in an
append-only file. So a log that rewrote its past cannot get a new checkpoint witnessed, even
with its own signing key. The protocol follows c2sp.org/tlog-witness in spirit:

    POST /add-checkpoint
    old <size the log believes the witness has>
    <consistency proof, one base64 hash per line>
    <blank line>
    <the signed checkpoint>

200 with the cosignature line; 409 with the size it has (text/x.tlog.size) when `old` is not
what it has; 422 when the proof or the signature does not hold. `GET /` lists what arrived.
"""

from __future__ import annotations

import base64
import html
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier import saring_verify as tree

MAX_BODY = 64 * 1024


@dataclass
class Witness:
    log_key: str  # the log's verifier key
    store: Path  # a directory: the accepted checkpoints, appended
    name: str = "witness.saring.local"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    size: int = 0
    root: bytes = tree.EMPTY_ROOT
    arrived: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        state = self.store / "latest.json"
        if state.exists():  # what it accepted before a restart
            saved = json.loads(state.read_text())
            self.size, self.root = saved["size"], base64.b64decode(saved["root"])

    def add(self, body: str) -> tuple[int, str]:
        """(HTTP status, answer) for one add-checkpoint request."""
        head, sep, note = body.partition("\n\n")
        lines = head.split("\n")
        if not sep or not lines[0].startswith("old ") or not lines[0][4:].isdigit():
            return 400, "expected: old <size>, the proof, a blank line, the checkpoint"
        old = int(lines[0][4:])
        try:
            proof = [base64.b64decode(line, validate=True) for line in lines[1:] if line]
            checkpoint = tree.open_checkpoint(note, self.log_key)
        except (ValueError, tree.BadNote) as exc:
            return 422, f"refused: {exc}"
        with self.lock:
            if old != self.size:
                return 409, str(self.size)
            if checkpoint.size < self.size or not tree.verify_consistency(
                self.size, checkpoint.size, self.root, checkpoint.root, proof
            ):
                return 422, "refused: the new tree does not extend the one I saw"
            self.size, self.root = checkpoint.size, checkpoint.root
            with open(self.store / "checkpoints.txt", "a", encoding="utf-8") as handle:
                handle.write(note + "\n")
            (self.store / "latest.json").write_text(
                json.dumps({"size": self.size, "root": base64.b64encode(self.root).decode()})
            )
            self.arrived.append(
                {"size": checkpoint.size, "root": checkpoint.root.hex(), "at": datetime.now(UTC)}
            )
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        signature = tree.key_id(self.name, public) + self.key.sign(checkpoint.text.encode())
        return 200, f"\u2014 {self.name} {base64.b64encode(signature).decode()}"


def serve(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base's name
            pass

        def _answer(self, status: int, text: str, kind: str = "text/plain") -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/add-checkpoint":
                return self._answer(404, "not found")
            if not 0 < length <= MAX_BODY:
                return self._answer(413, "a checkpoint is a few lines")
            status, answer = witness.add(self.rfile.read(length).decode("utf-8", "replace"))
            kind = "text/x.tlog.size" if status == 409 else "text/plain"
            return self._answer(status, answer, kind)

        def do_GET(self) -> None:
            if self.path != "/":
                return self._answer(404, "not found")
            rows = "".join(
                f"<tr><td>{a['at']:%Y-%m-%d %H:%M:%S} UTC</td><td>{a['size']}</td>"
                f"<td><code>{html.escape(a['root'])}</code></td></tr>"
                for a in reversed(witness.arrived[-200:])
            )
            page = (
                "<!doctype html><title>Witness</title><h1>Checkpoints witnessed</h1>"
                f"<p>Latest tree size: {witness.size}</p>"
                f"<table><tr><th>Arrived</th><th>Tree size</th><th>Root</th></tr>{rows}</table>"
            )
            return self._answer(200, page, "text/html")

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
