"""Every benchmark and the load test run at smoke size inside `make test`, on the same code
path as `make bench` / `make load`, so none can rot: each must finish, and end with its JSON
line carrying the keys the README's table is made from."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT

# The keys each benchmark's last line must carry (scripts/bench_report.py reads them).
KEYS = {
    "intake": {
        "reports_per_s",
        "ceiling_per_s",
        "ceiling_method",
        "ratio",
        "goal_met",
        "seal_lag_p95_s",
        "seal_lag_goal_met",
    },
    "queue": {
        "ratio_large_small_max",
        "admin_over_ours",
        "queries_per_page_max",
        "next_case_ms_large",
        "first_page_with_counts_cold_ms",
        "first_page_with_counts_cached_ms",
    },
    "delivery": {
        "live_deliveries_per_s",
        "p95_s",
        "backlog_deliveries_per_s",
        "faulty_delivered",
        "faulty_total",
        "duplicate_actions",
        "faults",
        "settings_scaled",
    },
    "export": {
        "csv_rows_per_s",
        "memory_growth_ratio",
        "filtered_export_s",
        "filtered_rows",
        "verify_events_per_s",
        "sealed_per_s",
        "inclusion_proof_ms_p95",
        "log_goals_met",
    },
    "dashboard": {"ratio_30d", "ratio_90d", "tail_reports"},
    "captcha": {"max_number", "phone_mean_s", "phone_worst_s", "bot_mean_s", "goal_met"},
    "pictures": {
        "stored",
        "match_p50_ms",
        "match_p95_ms",
        "full_scan_p50_ms",
        "recall",
        "hash_pictures_per_s",
        "goal_met",
    },
    "rings": {
        "accounts",
        "rebuild_s",
        "load_s",
        "union_find_s",
        "write_s",
        "rings",
        "ring_accounts",
        "rings_exact",
        "returning_batch_ms",
        "goal_met",
    },
}
LOAD_KEYS = {"users", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "double_claims"}


def smoke_env() -> dict[str, str]:
    """The environment `make test` runs in (its PostgreSQL and Redis, its static files),
    at smoke size."""
    env = dict(os.environ, BENCH_SCALE="smoke", PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def last_json_line(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


@pytest.mark.parametrize("name", sorted(KEYS))
def test_each_benchmark_runs_at_smoke_size_and_ends_with_its_figures(name):
    run = subprocess.run(
        [sys.executable, "-m", f"bench.{name}"],
        cwd=ROOT,
        env=smoke_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = last_json_line(run.stdout)
    assert result["bench"] == name and result["scale"] == "smoke"
    assert KEYS[name] <= set(result), KEYS[name] - set(result)


def test_the_load_test_runs_at_smoke_size_without_failures_or_double_claims():
    run = subprocess.run(
        [sys.executable, "scripts/dev.py", "load"],
        cwd=ROOT,
        env=smoke_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = last_json_line(run.stdout)
    assert set(result) >= LOAD_KEYS, LOAD_KEYS - set(result)
    assert result["requests"] > 0
    assert result["failures"] == 0 and result["double_claims"] == 0
