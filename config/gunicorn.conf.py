"""gunicorn's settings beyond its command line (Procfile, Dockerfile and docker-compose.yml
pass `--config config/gunicorn.conf.py`): the request metrics of every worker in one place.

prometheus-client's multiprocess mode: each worker writes its figures to files in
PROMETHEUS_MULTIPROC_DIR and /metrics sums the files of all of them (config/metrics.py). The
directory is made fresh when gunicorn starts (a kept one is emptied: figures of an earlier
run would be counted again) and the files of a worker that exits stay, so counters never go
back; the directory is removed when gunicorn stops, if gunicorn made it.
"""

import os
import shutil
import tempfile
from pathlib import Path

_made: list[str] = []


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="saring-metrics-")
        _made.append(directory)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # the workers, forked later, inherit it


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for directory in _made:
        shutil.rmtree(directory, ignore_errors=True)
