"""The load test of the whole site (`make load`): many people working at once.

Run by `scripts/dev.py load`, which starts the same processes as `make run` (gunicorn, the
Celery worker and beat, the RQ worker, the operator simulator) on a database of its own,
creates the people below and hands this file to locust (headless, for a fixed time):

- 50 moderators: the queue, "next case" (a claim), read the case (keeping the claim alive as
  the page's heartbeat does), think, decide — mostly dismiss, some takedown proposals, a few
  escalations — and go on to the next case the decision hands them; now and then a filter or
  a search of the queue.
- 5 supervisors: approvals (approving other people's proposals), takedown requests, the
  dashboard, escalated cases.
- 2 auditors: the audit trail and decision log with filters, the chain page, an export now
  and then.
- 1 API client: a source organisation's crawler sending 20 reports a second (two batches of
  ten, as a crawler does).

At BENCH_SCALE=smoke (inside `make test`) there are 3 moderators, 1 supervisor, 1 auditor
and the crawler, for 15 seconds. Everyone signs in as people do: the password, and for
supervisors a real TOTP code. The people and secrets come from the JSON file named by
SARING_LOAD_PEOPLE. When locust stops, the per-page figures are written to
SARING_LOAD_RESULT for the runner to print.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time

from locust import HttpUser, between, constant_throughput, events, task

PEOPLE = json.loads(open(os.environ["SARING_LOAD_PEOPLE"]).read())  # noqa: SIM115, PTH123
# How many of each (the runner sets fewer at BENCH_SCALE=smoke).
COUNTS = json.loads(os.environ.get("SARING_LOAD_COUNTS", "{}"))
_moderators = itertools.cycle(PEOPLE["moderators"])
_supervisors = itertools.cycle(PEOPLE["supervisors"])
_auditors = itertools.cycle(PEOPLE["auditors"])
_batch = itertools.count()

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'id="decide-dismiss".*?name="version" value="(\d+)"', re.S)
BASIS = re.compile(r'<select id="takedown-basis" name="legal_basis"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')
PROPOSAL = re.compile(r'action="/approvals/(\d+)/approve/"')
RATIONALES = {
    "dismiss": "Checked the profile and the reports: no offer of anything illegal.",
    "propose_takedown": "Profile offers paid sex with a price list and a WhatsApp number.",
    "escalate": "Looks like a ring operating several accounts: a supervisor should look.",
}


def totp(secret_hex: str, *, at: float | None = None) -> str:
    """RFC 6238 TOTP (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(binascii.unhexlify(secret_hex), struct.pack(">Q", counter), hashlib.sha1)
    raw = digest.digest()
    offset = raw[-1] & 0x0F
    code = (struct.unpack(">I", raw[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Person(HttpUser):
    abstract = True

    def form_post(self, path: str, data: dict, *, name: str, page: str | None = None):
        """POST a form as the browser does: with the CSRF token of the page it came from."""
        token = CSRF.search(page or "")
        if token is None:
            with self.client.get(path, name=f"{name} (form)", catch_response=True) as got:
                token = CSRF.search(got.text or "")
                if token is None:
                    got.failure("no CSRF token in the page")
                    return None
        return self.client.post(
            path,
            {**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": self.host + path},
            name=name,
        )

    def sign_in(self, username: str, secret: str | None) -> None:
        login = self.client.get("/login/", name="sign in (page)")
        self.form_post(
            "/login/",
            {"username": username, "password": PEOPLE["password"]},
            name="sign in (password)",
            page=login.text,
        )
        if secret is not None:
            page = self.client.get("/account/two-factor/", name="sign in (code page)")
            self.form_post(
                "/account/two-factor/",
                {"token": totp(secret)},
                name="sign in (code)",
                page=page.text,
            )


class Moderator(Person):
    fixed_count = COUNTS.get("moderators", 50)
    wait_time = between(3, 8)  # reading a case and writing a rationale

    def on_start(self) -> None:
        self.sign_in(next(_moderators), None)
        self.case_page = ""
        self.case_path = ""

    def next_case(self) -> None:
        queue = self.client.get("/queue/", name="queue")
        response = self.form_post("/queue/next/", {}, name="next case", page=queue.text)
        self._landed(response)

    def _landed(self, response) -> None:
        """Where "next case" or a decision leads: a case page (claimed) or the queue."""
        if response is not None and "/cases/" in response.url:
            self.case_page, self.case_path = response.text, response.url.split(self.host, 1)[-1]
        else:
            self.case_page = self.case_path = ""

    @task(10)
    def review(self) -> None:
        if not self.case_path:
            self.next_case()
            return
        # The case page stays open while the moderator reads: its heartbeat keeps the claim.
        self.form_post(
            self.case_path + "heartbeat/", {}, name="case heartbeat", page=self.case_page
        )
        version = VERSION.search(self.case_page)
        if version is None:  # read-only (the claim was lost): back to the queue
            self.next_case()
            return
        outcome = random.choices(["dismiss", "propose_takedown", "escalate"], weights=[70, 25, 5])[
            0
        ]
        data = {"outcome": outcome, "version": version.group(1), "rationale": RATIONALES[outcome]}
        if outcome == "propose_takedown":
            options = OPTION.findall((BASIS.search(self.case_page) or [""])[0] or "")
            data |= {
                "category": "prostitution",
                "legal_basis": options[0] if options else "",
                "urgency": "normal",
            }
        response = self.form_post(
            self.case_path + "decide/", data, name="decide", page=self.case_page
        )
        self._landed(response)

    @task(1)
    def look_around(self) -> None:
        query = random.choice(["?category=prostitution", "?source=police", "?q=open+bo"])
        self.client.get(f"/queue/{query}", name="queue (filter or search)")
        self.client.get("/queue/counts/", name="queue counts")


class Supervisor(Person):
    fixed_count = COUNTS.get("supervisors", 5)
    wait_time = between(5, 15)

    def on_start(self) -> None:
        username, secret = next(_supervisors)
        self.sign_in(username, secret)

    @task(5)
    def approve(self) -> None:
        page = self.client.get("/approvals/", name="approvals")
        proposals = PROPOSAL.findall(page.text or "")
        if proposals:
            decision = random.choice(proposals[:10])
            self.form_post(f"/approvals/{decision}/approve/", {}, name="approve", page=page.text)

    @task(2)
    def takedowns(self) -> None:
        self.client.get("/takedowns/", name="takedowns")

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/supervision/", name="dashboard")

    @task(1)
    def escalated(self) -> None:
        self.client.get("/queue/escalated/", name="escalated cases")


class Auditor(Person):
    fixed_count = COUNTS.get("auditors", 2)
    wait_time = between(5, 20)

    def on_start(self) -> None:
        username, secret = next(_auditors)
        self.sign_in(username, secret)

    @task(4)
    def trail(self) -> None:
        self.client.get("/audit/trail/?action=decision.", name="audit trail (filtered)")

    @task(4)
    def decisions(self) -> None:
        self.client.get("/audit/decisions/?category=prostitution", name="decision log (filtered)")

    @task(1)
    def export(self) -> None:
        page = self.client.get("/audit/decisions/", name="decision log")
        self.form_post(
            "/audit/exports/", {"format": "csv"}, name="export (request)", page=page.text
        )


class Crawler(HttpUser):
    """A source organisation's API client: 20 reports a second, in batches of ten."""

    fixed_count = 1
    wait_time = constant_throughput(2)

    @task
    def send(self) -> None:
        batch = next(_batch)
        reports = [
            {
                "external_reference": f"LOAD-{os.getpid()}-{batch}-{n}",
                "platform": "michat",
                "account": {"identifier": f"@load_{(batch * 10 + n) % 5000}"},
                "category": "prostitution",
                "description": "Open BO, tarif di profil, DP lewat transfer.",
            }
            for n in range(10)
        ]
        self.client.post(
            "/api/v1/reports/batch/",
            json={"reports": reports},
            headers={"Authorization": f"Bearer {PEOPLE['api_token']}"},
            name="API: 10 reports",
        )


@events.quitting.add_listener
def _write_result(environment, **_kwargs) -> None:
    """Per request name: count, failures and percentiles, for the runner's table."""
    rows = []
    for entry in environment.stats.entries.values():
        rows.append(
            {
                "name": entry.name,
                "method": entry.method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
            }
        )
    total = environment.stats.total
    summary = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "rps": round(total.total_rps, 1),
        "errors": [
            {"name": e.name, "error": str(e.error)[:200], "count": e.occurrences}
            for e in environment.stats.errors.values()
        ],
    }
    with open(os.environ["SARING_LOAD_RESULT"], "w") as out:  # noqa: PTH123
        json.dump({"rows": rows, "total": summary}, out)
