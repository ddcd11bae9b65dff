"""The public form's proof of work (ALTCHA): what its difficulty costs a phone, and a bot.

- **The phone** is the page's own solver (static/js/altcha-solver.js) in Chromium on this
  machine, its CPU slowed 4× with DevTools' CPU throttling (Chrome's "mid-tier mobile" preset),
  given a challenge made the way the server makes them (altcha, SHA-256) whose secret number is
  the largest allowed: the worst case. Its time is also measured unthrottled (this machine's
  browser) and with the solver the page used before (one `crypto.subtle.digest` per number).
- **The bot** is Python's hashlib (OpenSSL's SHA-256 in C) trying numbers on one core: the
  cheapest way a script would solve it, short of a GPU.

A challenge's secret number is drawn uniformly up to ALTCHA_MAX_NUMBER, so a solve takes on
average half the worst case. Goal: the phone needs ≤ 2 s on average, and a bot pays ≥ 0.1 s
of CPU per solved challenge (on top of the per-client limit of accepted reports).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import django_ready, emit, goal, say, scaled  # noqa: E402

NAME = "captcha"
SOLVER = ROOT / "static" / "js" / "altcha-solver.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_SLOWDOWN = 4  # Chrome DevTools' "mid-tier mobile" CPU throttling
# Served by page.route below: nothing leaves the process. https, because crypto.subtle (the
# solver checks its answer with it) exists only in a secure context.
ORIGIN = "https://saring.bench"
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"></head><body>
<form><div data-altcha data-challenge-url="/challenge" data-working="…" data-done="done"
 data-failed="failed"><input type="hidden" name="altcha"><span data-altcha-status></span></div>
</form><script src="{ORIGIN}/solver.js"></script></body></html>"""
# The solver the page had before (one awaited crypto.subtle.digest per number), for comparison.
SUBTLE_SOLVER = """(function () {
  function hex(b) {
    return Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
  }
  var box = document.querySelector("[data-altcha]");
  fetch("/challenge").then(r => r.json()).then(async function (c) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= c.maxNumber; n++) {
      var d = await crypto.subtle.digest("SHA-256", encoder.encode(c.salt + n));
      if (hex(d) === c.challenge) { box.querySelector("input").value = String(n); return; }
    }
  });
})();"""


def difficulty() -> int:
    """The server's setting (ALTCHA_MAX_NUMBER), as the running site reads it."""
    django_ready(migrate=False)  # settings only: nothing connects
    from django.conf import settings

    return int(settings.ALTCHA_MAX_NUMBER)


def challenge(max_number: int) -> dict:
    """A challenge as reports.captcha makes them, its secret number the largest allowed."""
    import altcha

    return altcha.v1.create_challenge(
        altcha.v1.ChallengeOptions(
            algorithm="SHA-256",
            max_number=max_number,
            number=max_number,
            hmac_key=secrets.token_hex(16),
            expires=datetime.now(UTC) + timedelta(minutes=20),
        )
    ).to_dict()


def browser_solve_seconds(browser, max_number: int, *, slowdown: int, script: str) -> float:
    """Seconds from the page's first byte until its solver has put an answer in the form."""
    page = browser.new_page()
    try:
        made = challenge(max_number)
        page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
        page.route(
            f"{ORIGIN}/solver.js",
            lambda route: route.fulfill(body=script, content_type="text/javascript"),
        )
        page.route(
            f"{ORIGIN}/challenge",
            lambda route: route.fulfill(body=json.dumps(made), content_type="application/json"),
        )
        if slowdown > 1:
            cdp = page.context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
        started = time.perf_counter()
        page.goto(f"{ORIGIN}/")
        page.wait_for_function(
            "document.querySelector('input[name=altcha]').value !== ''", timeout=600_000
        )
        return time.perf_counter() - started
    finally:
        page.close()


def bot_hashes_per_s(count: int) -> float:
    """SHA-256(salt + n) for n = 0 … count-1 with hashlib, as a script would solve it."""
    salt = challenge(10)["salt"]
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for n in range(count):
        sha256(f"{salt}{n}".encode()).digest()
    return count / (time.perf_counter() - started)


def main() -> None:
    from playwright.sync_api import sync_playwright

    chosen = difficulty()
    worst = scaled(full=chosen, smoke=20_000)
    say(NAME, f"difficulty (ALTCHA_MAX_NUMBER) {chosen:,}; worst case measured at {worst:,}")
    bot_rate = bot_hashes_per_s(scaled(full=3_000_000, smoke=50_000))
    say(NAME, f"bot (hashlib, one core): {bot_rate:,.0f} hashes/s")
    page_solver = SOLVER.read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desktop = browser_solve_seconds(browser, worst, slowdown=1, script=page_solver)
            phone = browser_solve_seconds(
                browser, worst, slowdown=PHONE_SLOWDOWN, script=page_solver
            )
            before_n = scaled(full=200_000, smoke=5_000)
            before = browser_solve_seconds(browser, before_n, slowdown=1, script=SUBTLE_SOLVER)
        finally:
            browser.close()
    scale = chosen / worst  # at smoke size the times are scaled up to the chosen difficulty
    phone_rate, desktop_rate = worst / phone, worst / desktop
    before_rate = before_n / before
    phone_mean, phone_worst = chosen / 2 / phone_rate, phone * scale
    bot_mean = chosen / 2 / bot_rate
    phone_ok, bot_ok = phone_mean <= 2.0, bot_mean >= 0.1
    rows = [
        ("phone (Chromium, CPU 4× slower)", phone_rate, phone_mean, phone_worst),
        ("this machine's Chromium", desktop_rate, chosen / 2 / desktop_rate, desktop * scale),
        ("page's former solver (crypto.subtle)", before_rate, chosen / 2 / before_rate, None),
        ("bot (Python hashlib, 1 core)", bot_rate, bot_mean, chosen / bot_rate),
    ]
    print()
    print(f"{'solver':40} {'hashes/s':>12} {'mean s':>8} {'worst s':>8}")
    for label, rate, mean, worst_s in rows:
        worst_text = f"{worst_s:8.2f}" if worst_s is not None else f"{'—':>8}"
        print(f"{label:40} {rate:12,.0f} {mean:8.2f} {worst_text}")
    print(f"phone mean ≤ 2 s: {goal(phone_ok)}; bot ≥ 0.1 s per solution: {goal(bot_ok)}")
    emit(
        {
            "bench": NAME,
            "max_number": chosen,
            "measured_at_number": worst,
            "phone_hashes_per_s": round(phone_rate),
            "desktop_hashes_per_s": round(desktop_rate),
            "subtle_solver_hashes_per_s": round(before_rate),
            "bot_hashes_per_s": round(bot_rate),
            "phone_mean_s": round(phone_mean, 2),
            "phone_worst_s": round(phone_worst, 2),
            "bot_mean_s": round(bot_mean, 3),
            "goal_met": phone_ok and bot_ok,
        }
    )


if __name__ == "__main__":
    main()
