from __future__ import annotations

import json
import os
import subprocess
import sys
from unittest import mock

import pytest

from config.env import (
    RUN_FILE_KEYS,
    ImproperlyConfiguredEnv,
    env_bool,
    env_int,
    load_run_file,
    parse_database_url,
)
from scripts import dev
from tests.support import ROOT
from tests.support.env import production_env


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "flase")
    with pytest.raises(ImproperlyConfiguredEnv, match="SOME_FLAG='flase' is not a boolean"):
        env_bool("SOME_FLAG", False)


def test_it_refuses_a_number_it_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "10s")
    with pytest.raises(ImproperlyConfiguredEnv, match="not a whole number"):
        env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "-1")
    with pytest.raises(ImproperlyConfiguredEnv, match="below its minimum"):
        env_int("SOME_NUMBER", 1, minimum=0)


def test_it_reads_socket_and_network_database_urls():
    socket = parse_database_url("postgresql://postgres:@/saring?host=/srv/.data/postgres")
    assert (socket["NAME"], socket["HOST"], socket["USER"]) == (
        "saring",
        "/srv/.data/postgres",
        "postgres",
    )
    network = parse_database_url("postgres://app:s%40cret@db.internal:6543/saring?sslmode=require")
    assert network["PASSWORD"] == "s@cret"
    assert (network["HOST"], network["PORT"]) == ("db.internal", "6543")
    assert network["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfiguredEnv):
        parse_database_url("mysql://x/y")
    with pytest.raises(ImproperlyConfiguredEnv):
        parse_database_url("postgresql://host/")


def test_check_deploy_is_clean_with_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_will_not_start_in_production_without_a_real_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(SECRET_KEY="short"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_it_will_not_start_in_production_without_keys_for_operators_secrets():
    env = production_env()
    env.pop("PLATFORM_SECRET_KEYS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PLATFORM_SECRET_KEYS must be set when DEBUG is off" in result.stderr


def test_it_names_a_bad_variable_at_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(DATABASE_POOL="maybe"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DATABASE_POOL='maybe' is not a boolean" in result.stderr


# --- make run's file, for commands in a second terminal (config/env.py load_run_file) -------


def _run_file(tmp_path, *, pid, env, mode=0o600):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"pid": pid, "env": env}))
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("why", "pid", "mode"),
    [
        ("readable by others", "self", 0o644),
        ("its make run has ended", "dead", 0o600),
        ("no process", 0, 0o600),
        ("an impossible pid", 2**70, 0o600),
    ],
)
def test_a_run_file_that_cannot_be_trusted_is_ignored(tmp_path, why, pid, mode):
    if pid == "self":
        pid = os.getpid()
    elif pid == "dead":
        finished = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        pid = int(finished.stdout)
    path = _run_file(tmp_path, pid=pid, env={"SITE_URL": "http://from-the-file"}, mode=mode)
    with mock.patch.dict(os.environ, clear=False):
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("SITE_URL", None)
        assert load_run_file(path) is False, why
        assert "SITE_URL" not in os.environ


def test_a_run_file_gives_only_make_runs_settings_and_never_overrides(tmp_path):
    path = _run_file(
        tmp_path,
        pid=os.getpid(),
        env={"SITE_URL": "http://from-the-file", "REDIS_URL": "redis://x", "LD_PRELOAD": "/evil"},
    )
    with mock.patch.dict(os.environ, clear=False):
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("SITE_URL", None)
        os.environ.pop("LD_PRELOAD", None)
        os.environ["REDIS_URL"] = "redis://already-set"
        assert load_run_file(path) is True
        assert os.environ["SITE_URL"] == "http://from-the-file"
        assert os.environ["REDIS_URL"] == "redis://already-set"
        assert "LD_PRELOAD" not in os.environ
    with mock.patch.dict(os.environ, {"DATABASE_URL": "postgresql://set/x"}):
        assert load_run_file(path) is False  # a configured process never reads it


def test_make_run_writes_exactly_the_keys_a_command_may_take():
    assert set(RUN_FILE_KEYS) == set(dev.RUN_FILE_KEYS)
