"""The README's benchmark table, written from the last `make bench` run.

    python scripts/bench_report.py            # print the table (Markdown)
    python scripts/bench_report.py --readme   # and put it into README.md between its markers

`make bench` (scripts/dev.py) writes each benchmark's last JSON line to
bench/results/latest.jsonl, with when and on what machine it ran; a full run of them all
rewrites the README's table from that file, so the figures there are always from a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.jsonl"
README = ROOT / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _n(value: object, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: object) -> str:
    return "—" if value is None else f"{float(value):.0%}"  # type: ignore[arg-type]


def _met(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def _row(r: dict) -> tuple[str, str, str, str]:
    """(benchmark, figures, goal, met) for one result."""
    name = r.get("bench", "?")
    if name == "intake":
        rate, ratio = r.get("reports_per_s"), r.get("ratio")
        return (
            "intake",
            f"{_n(rate)} reports/s over HTTP; ceiling {_n(r.get('ceiling_per_s'))}/s "
            f"({r.get('ceiling_method', '?')}); ratio {_pct(ratio)}; audit sealing lag p95 "
            f"{_n(r.get('seal_lag_p95_s'), 2)} s",
            "≥ 3,000 reports/s and ≥ 25 % of the ceiling; sealing lag p95 < 2 s",
            _met(bool(r.get("goal_met")) and bool(r.get("seal_lag_goal_met", True))),
        )
    if name == "queue":
        ratio, faster = r.get("ratio_large_small_max"), r.get("admin_over_ours")
        return (
            "queue",
            f"worst large/small ratio {_n(ratio, 2)}; the admin takes {_n(faster, 1)}× our time; "
            f"page + counts {_n(r.get('first_page_with_counts_cold_ms'), 1)} ms cold, "
            f"{_n(r.get('first_page_with_counts_cached_ms'), 1)} ms cached; next case "
            f"{_n(r.get('next_case_ms_large'), 1)} ms",
            "ratio ≤ 1.5; ours (page + counts, cold) ≥ 10× faster than the admin",
            _met(bool(r.get("ratio_goal_met")) and bool(r.get("admin_goal_met"))),
        )
    if name == "delivery":
        live, p95 = r.get("live_deliveries_per_s") or 0, r.get("p95_s")
        delivered, total = r.get("faulty_delivered"), r.get("faulty_total")
        duplicates = r.get("duplicate_actions")
        return (
            "delivery",
            f"{_n(live, 1)} deliveries/s live, p95 {_n(p95, 3)} s; backlog "
            f"{_n(r.get('backlog_deliveries_per_s'), 1)}/s; under faults {_n(delivered)}/"
            f"{_n(total)} delivered, {_n(duplicates)} duplicate actions",
            "≥ 100/s live, p95 < 1 s; all delivered, 0 duplicates under faults",
            _met(
                live >= 100
                and p95 is not None
                and p95 < 1
                and delivered == total
                and duplicates == 0
            ),
        )
    if name == "export":
        rate, growth = r.get("csv_rows_per_s"), r.get("memory_growth_ratio")
        return (
            "export",
            f"CSV {_n(rate)} rows/s; memory growth ratio {_n(growth, 2)}; filtered export "
            f"{_n(r.get('filtered_rows'))} rows in {_n(r.get('filtered_export_s'), 2)} s; "
            f"audit log: sealed {_n(r.get('sealed_per_s'))}/s, verify "
            f"{_n(r.get('verify_events_per_s'))} events/s, inclusion proof p95 "
            f"{_n(r.get('inclusion_proof_ms_p95'), 2)} ms",
            "CSV ≥ 50,000 rows/s; memory growth ratio ≤ 1.2; sealing ≥ 5,000/s, verify "
            "≥ 200,000/s, proof < 10 ms",
            # Results from before the audit log had these goals carry no `log_goals_met`: say
            # so rather than count goals that were never measured as met.
            _met(bool(r.get("goal_met")) and bool(r.get("log_goals_met", True)))
            + ("" if "log_goals_met" in r else " (the log's goals not measured in this run)"),
        )
    if name == "dashboard":
        r30, r90 = r.get("ratio_30d"), r.get("ratio_90d")
        return (
            "dashboard",
            f"1M/1k ratio {_n(r30, 2)} (30 days), {_n(r90, 2)} (90 days), with a live tail of "
            f"{_n(r.get('tail_reports'))} reports",
            "the same time at both sizes (ratio ≤ 1.25)",
            _met(bool(r.get("goal_met"))),
        )
    if name == "captcha":
        return (
            "captcha",
            f"difficulty {_n(r.get('max_number'))}: a phone (Chromium, CPU 4× slower) "
            f"{_n(r.get('phone_mean_s'), 2)} s on average, {_n(r.get('phone_worst_s'), 2)} s at "
            f"worst; a bot (hashlib, one core) {_n(r.get('bot_mean_s'), 3)} s per solution",
            "phone ≤ 2 s on average; bot ≥ 0.1 s per solution",
            _met(bool(r.get("goal_met"))),
        )
    if name == "pictures":
        return (
            "pictures",
            f"one new picture (8 variants) against {_n(r.get('stored'))} hashes: p50 "
            f"{_n(r.get('match_p50_ms'), 1)} ms, p95 {_n(r.get('match_p95_ms'), 1)} ms (full scan "
            f"{_n(r.get('full_scan_p50_ms'), 1)} ms); recall {_pct(r.get('recall'))}; hashing "
            f"{_n(r.get('hash_pictures_per_s'))} pictures/s in one worker",
            "p95 < 100 ms at 1,000,000 hashes, every planted copy within 31 bits found",
            _met(bool(r.get("goal_met"))),
        )
    if name == "rings":
        return (
            "rings",
            f"rebuild over {_n(r.get('accounts'))} accounts {_n(r.get('rebuild_s'), 2)} s (load "
            f"{_n(r.get('load_s'), 2)} s, union-find {_n(r.get('union_find_s'), 2)} s, write "
            f"{_n(r.get('write_s'), 2)} s): {_n(r.get('rings'))} rings of "
            f"{_n(r.get('ring_accounts'))} accounts, as planted: {_n(r.get('rings_exact'))}; "
            f"returning check {_n(r.get('returning_batch_ms'), 1)} ms per batch of 500",
            "rebuild ≤ 5 s at 100,000 accounts; returning check ≤ 50 ms a batch",
            _met(bool(r.get("goal_met"))),
        )
    return (name, json.dumps(r), "", "")


def table(results: list[dict]) -> str:
    if not results:
        return "No benchmark results yet: run `make bench`."
    first = results[0]
    lines = [
        f"Measured {first.get('measured_at', '?')} on {first.get('machine', '?')} "
        f"(`make bench`, scale {first.get('scale', '?')}).",
        "",
        "| benchmark | last figures | goal | |",
        "|---|---|---|---|",
    ]
    for r in results:
        name, figures, target, met = _row(r)
        if r.get("measured_at") != first.get("measured_at"):  # from an earlier or later run
            figures += f" (measured {r.get('measured_at', '?')})"
        lines.append("| " + " | ".join((name, figures, target, met)) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    text = table(results)
    print(text)
    if args.readme:
        readme = README.read_text()
        if START not in readme or END not in readme:
            print(f"README.md has no {START} … {END} section", file=sys.stderr)
            return 1
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
