"""The processes the delivery benchmark runs beside itself, and breaks on purpose: a Redis of
its own (the broker, restarted mid-run), the Celery worker (SIGKILLed mid-run and started
again) and Celery beat (the sweeper's clock); and py-spy, to profile them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import ROOT
from scripts.dev import EmbeddedRedis, free_port

CELERY = str(Path(sys.executable).parent / "celery")


class BenchRedis(EmbeddedRedis):
    """A redis-server on a free port, without persistence: a restart loses every message
    queued in it, as a restarted Redis that keeps nothing on disk does."""

    def __init__(self) -> None:
        super().__init__(None, free_port())

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self, *, down_for: float) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class CeleryProcess:
    """`celery -A config worker|beat …` in a process group of its own, so that a SIGKILL
    takes the prefork children with it, as when a container or a machine dies."""

    def __init__(self, name: str, args: list[str], *, env: dict, log: Path, ready: bytes):
        self.name, self.args, self.env, self.log, self.ready = name, args, env, log, ready
        self.process: subprocess.Popen | None = None
        self.lock = threading.Lock()  # held while it is stopped or started on purpose

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, timeout: float = 90) -> CeleryProcess:
        if self.process is not None:  # what a crash may have left of the last one's group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [CELERY, "-A", "config", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log, "rb") as output:
                output.seek(offset)
                if self.ready in output.read():
                    return self
            if self.process.poll() is not None:
                raise SystemExit(f"celery {self.name} exited: see {self.log}")
            time.sleep(0.1)
        raise SystemExit(f"celery {self.name} was not ready after {timeout:.0f} s: see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no acknowledgement, nothing cleaned up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


class Restarter(threading.Thread):
    """Starts Celery processes again when they exit on their own, as `restart:
    unless-stopped` does in docker-compose.yml, and counts how often that was needed."""

    def __init__(self, *processes: CeleryProcess) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.stopping = threading.Event()
        self.restarts: list[str] = []

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for process in self.processes:
                with process.lock:
                    if process.process is not None and process.process.poll() is not None:
                        self.restarts.append(f"{process.name} (exit {process.process.returncode})")
                        process.start()

    def stop(self) -> None:
        self.stopping.set()
        self.join(120)


def celery_worker(*, concurrency: int, env: dict, log: Path) -> CeleryProcess:
    args = ["worker", "--concurrency", str(concurrency), "--loglevel", "INFO"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return CeleryProcess("worker", args, env=env, log=log, ready=b" ready.")


def celery_beat(*, env: dict, log: Path) -> CeleryProcess:
    schedule = log.with_name("celerybeat-schedule")
    args = ["beat", "--loglevel", "INFO", "--schedule", str(schedule)]
    return CeleryProcess("beat", args, env=env, log=log, ready=b"beat: Starting")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class Profile:
    """`py-spy record` of some processes for as long as the block runs (BENCH_PROFILE_DIR):
    one collapsed-stack file per process, which `py-spy` or speedscope can read."""

    def __init__(self, directory: Path | None, label: str, pids: dict[str, int]) -> None:
        self.directory, self.label, self.pids = directory, label, pids
        self.recorders: list[subprocess.Popen] = []

    def __enter__(self) -> Profile:
        if self.directory is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        py_spy = Path(sys.executable).parent / "py-spy"
        for name, pid in self.pids.items():
            out = self.directory / f"{self.label}-{name}.txt"
            self.recorders.append(
                subprocess.Popen(
                    # --nonblocking: never pause the process (a paused lock holder stalls all)
                    [str(py_spy), "record", "--format", "raw", "--rate", "50", "--idle"]
                    + ["--nonblocking"]
                    + ["--pid", str(pid), "--output", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return self

    def __exit__(self, *exc) -> None:
        for recorder in self.recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for recorder in self.recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
