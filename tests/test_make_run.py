"""`make run`'s script brings up every process, serves the login page, lets each demo user in,
and Ctrl-C stops everything, leaving no stray process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest
import requests
from django.conf import settings

from moderation.management.commands.seed_demo import DEMO_PASSWORD, DEMO_STAFF
from scripts.dev import free_port

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "web": "gunicorn",
    "worker": "celery -A config worker",
    "beat": "celery -A config beat",
    "rqworker": "manage.py rqworker",
    "operator": "manage.py operator_sim",
}


def admin_dsn() -> dict:
    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"],
        "port": db["PORT"] or None,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }


@pytest.fixture
def scratch_database():
    name = f"saring_runcheck_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**admin_dsn()) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = settings.DATABASES["default"]
    host = db["HOST"]
    if host.startswith("/"):
        url = f"postgresql://{db['USER']}:{db['PASSWORD']}@/{name}?host={host}"
    else:
        url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{name}"
    yield url
    with psycopg.connect(**admin_dsn()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def read_lines(stream, into: list[str]) -> None:
    for line in iter(stream.readline, ""):
        into.append(line)


def sign_in(base: str, username: str) -> requests.Response:
    session = requests.Session()
    login = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    return session.post(
        f"{base}/login/",
        data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )


def test_make_run_starts_everything_and_ctrl_c_stops_everything(scratch_database, tmp_path):
    port, sim_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "REDIS_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/3",
        "PORT": str(port),
        "OPERATOR_SIM_PORT": str(sim_port),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
    }
    for name in (
        "DEBUG",
        "SARING_HTTPS",
        "SECRET_KEY",
        "SITE_URL",
        "OPERATOR_SIMULATOR_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        env.pop(name, None)
    lines: list[str] = []
    # Its own process group, like a terminal's foreground job, so Ctrl-C reaches all of it.
    proc = subprocess.Popen(
        [sys.executable, "scripts/dev.py", "run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            try:
                if requests.get(f"{base}/login/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the login page never answered:\n" + "".join(lines))
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in output
        for username, *_ in DEMO_STAFF:
            assert username in output

        # Every process of the Procfile is running.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = psutil.Process(proc.pid).children(recursive=True)
            commands = [" ".join(child.cmdline()) for child in children if child.is_running()]
            missing = [
                name
                for name, marker in EXPECTED.items()
                if not any(marker in command for command in commands)
            ]
            if not missing:
                break
            time.sleep(0.5)
        assert not missing, f"not running: {missing}\n{output}"
        assert requests.get(f"http://127.0.0.1:{sim_port}/_stats", timeout=5).status_code == 200

        homes = {
            "moderator": "/queue/",
            "supervisor": "/queue/",
            "auditor": "/audit/",
            "admin": "/admin/",
        }
        for username, home in homes.items():
            response = sign_in(base, username)
            assert response.status_code == 200, username
            assert response.url == base + home, (username, response.url)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("make run did not stop within 60 s of Ctrl-C:\n" + "".join(lines))
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running after Ctrl-C: {[p.cmdline() for p in alive]}"
