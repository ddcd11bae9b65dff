from __future__ import annotations

import subprocess
import sys

import pytest

from config.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_int,
    parse_database_url,
)
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
