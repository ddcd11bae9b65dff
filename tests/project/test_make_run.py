"""`make run` on a fresh machine: embedded PostgreSQL and Redis under the data directory,
every process of the Procfile, the login page, each demo user's home — and Ctrl-C (or a
SIGTERM) stops all of it, leaving no stray process. A second run reuses the data."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from devtools.management.commands.seed_demo import DEMO_PASSWORD, DEMO_STAFF, DEMO_TOTP_SECRETS
from scripts.dev import free_port
from tests.support import ROOT

EXPECTED = {
    "web": "gunicorn",
    "worker": "celery -A config worker",
    "beat": "celery -A config beat",
    "rqworker": "manage.py rqworker",
    "operator": "manage.py operator_sim",
    "sequencer": "manage.py audit_sequencer",
    "witness": "manage.py witness",
}
HOMES = {"moderator": "/queue/", "supervisor": "/queue/", "auditor": "/audit/", "admin": "/admin/"}


def sign_in(base: str, username: str) -> requests.Response:
    session = requests.Session()
    login = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    # The demo supervisors and administrator pass the two-factor step with the printed
    # secret. A code is good once: a second sign-in in the same 30 s takes the next one.
    for steps_ahead in (0, 1):
        if "/account/two-factor/" not in response.url:
            break
        from tests.support.signin import code_for_secret

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
        response = session.post(
            response.url,
            data={
                "token": code_for_secret(DEMO_TOTP_SECRETS[username], steps_ahead=steps_ahead),
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": response.url},
            timeout=10,
        )
    return response


def processes_gone(data_dir: Path, timeout: float = 30) -> list[psutil.Process]:
    """What still runs from this data directory after up to `timeout` seconds: PostgreSQL's
    fast shutdown can take a while to end its last process on a busy machine."""
    deadline = time.monotonic() + timeout
    while (left := processes_using(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Everything still running from this data directory, children or not (PostgreSQL is
    started through pg_ctl and is nobody's child)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(proc)
    return found


# make run's own variables: a second terminal has none of them.
RUN_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SARING_HTTPS",
    "SECRET_KEY",
    "SITE_URL",
    "PLATFORM_SECRET_KEYS",
    "OPERATOR_SIMULATOR_URL",
    "OPERATOR_ENDPOINTS_LOOPBACK",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "STATIC_ROOT",
    "PRIVATE_MEDIA_ROOT",
}


def second_terminal(data_dir: Path, *command: str) -> str:
    """`.venv/bin/python manage.py COMMAND` as a person would type it beside make run."""
    env = {key: value for key, value in os.environ.items() if key not in RUN_VARIABLES}
    env["SARING_DATA_DIR"] = str(data_dir)  # where this run keeps its data (.data/ by default)
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Run:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in {
                "DATABASE_URL",
                "REDIS_URL",
                "DEBUG",
                "SARING_HTTPS",
                "SECRET_KEY",
                "SITE_URL",
                "OPERATOR_SIMULATOR_URL",
                "DJANGO_ALLOW_ASYNC_UNSAFE",
                "STATIC_ROOT",
                "PRIVATE_MEDIA_ROOT",
            }
        }
        env.update(
            SARING_DATA_DIR=str(data_dir),
            PORT=str(self.port),
            OPERATOR_SIM_PORT=str(free_port()),
            REDIS_PORT=str(free_port()),
        )
        self.lines: list[str] = []
        # Its own process group, like a terminal's foreground job.
        self.proc = subprocess.Popen(
            [sys.executable, "scripts/dev.py", "run"],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_up(self) -> list[psutil.Process]:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output
            if "Saring is ready" in self.output:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the login page never answered:\n" + self.output)
        missing = list(EXPECTED)
        while time.monotonic() < deadline and missing:
            children = psutil.Process(self.proc.pid).children(recursive=True)
            commands = [" ".join(child.cmdline()) for child in children if child.is_running()]
            missing = [
                name
                for name, marker in EXPECTED.items()
                if not any(marker in command for command in commands)
            ]
            time.sleep(0.3)
        assert not missing, f"not running: {missing}\n{self.output}"
        return children

    def stop(self, how: str) -> None:
        if how == "ctrl-c":
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail(f"make run did not stop within 90 s of {how}:\n{self.output}")


@pytest.fixture
def data_dir(tmp_path):
    """The run's data directory; whatever still runs from it when the test ends, pass or
    fail, is stopped, so a failing run cannot leave a PostgreSQL behind."""
    path = tmp_path / "data"
    yield path
    leftovers = processes_using(path)
    for proc in leftovers:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
    psutil.wait_procs(leftovers, timeout=20)


def test_make_run_on_a_fresh_machine_and_again(data_dir):
    first = Run(data_dir)
    try:
        children = first.wait_until_up()
        assert f"http://127.0.0.1:{first.port}/" in first.output
        assert "Demo data loaded" in first.output
        for username, *_ in DEMO_STAFF:
            assert username in first.output
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        for username, home in HOMES.items():
            response = sign_in(first.base, username)
            assert (response.status_code, response.url) == (200, first.base + home), username
        # The audit log: where checkpoints go is printed, and the demo's events reach the
        # witness as a signed checkpoint within seconds.
        assert "Audit checkpoints: signed by saring.local/audit-log+" in first.output
        witness = first.output.split("witnessed at ")[1].split()[0]
        deadline = time.monotonic() + 60
        while "Latest tree size: 0<" in (page := requests.get(witness, timeout=5).text):
            assert time.monotonic() < deadline, "no checkpoint reached the witness"
            time.sleep(0.5)
        assert "Checkpoints witnessed" in page
        # The owner and app roles were made (else every process would run as one role).
        assert "one database role for everything" not in first.output
        # The README's example, in a second terminal with none of make run's variables: the
        # token it prints is one the running API accepts.
        issued = second_terminal(data_dir, "issue_token", "kominfo", "--label", "terminal 2")
        token = issued.strip().splitlines()[-1]
        created = requests.post(
            f"{first.base}/api/v1/reports/",
            json={
                "external_reference": "KMF-TERMINAL-2",
                "platform": "michat",
                "account": {"identifier": "0812-3456-7890"},
                "category": "prostitution",
                "description": "Open BO, tarif di profil",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        first.stop("ctrl-c")
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running after Ctrl-C: {[p.cmdline() for p in alive]}"
    assert not processes_gone(data_dir), "PostgreSQL or Redis outlived Ctrl-C"

    assert not (data_dir / "run.json").exists(), "make run left its settings file behind"
    second = Run(data_dir)
    try:
        children = second.wait_until_up()
        assert "Demo data already loaded; nothing added." in second.output
        assert sign_in(second.base, "moderator").url == second.base + "/queue/"
    finally:
        second.stop("sigterm")
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running after SIGTERM: {[p.cmdline() for p in alive]}"
    assert not processes_gone(data_dir), "PostgreSQL or Redis outlived SIGTERM"
