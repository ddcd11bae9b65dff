"""The public form's self-hosted proof-of-work captcha (ALTCHA, its v1 challenge format).

The browser is given a salted SHA-256 challenge signed with our key and must find the number
that produces it (static/js/altcha-solver.js); no third party is asked anything. Each solved
challenge is accepted once: its signature is remembered in Redis until it expires.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import altcha
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CHALLENGE_LIFETIME = timedelta(minutes=20)

# Shared by the public forms (the report form, the objection form) and their status pages.
ROBOT_CHECK_UNFINISHED = _(
    "The anti-robot check did not finish. Wait until it says it is done, then send again."
)
RECEIPT_CHARACTERS = re.compile(r"[A-Z0-9-]+")


def without_solution(data):
    """A public form's data as typed, less the used-up proof of work: shown again, the page
    solves a fresh one."""
    data = data.copy()
    data["altcha"] = ""
    return data


def _key() -> str:
    return "altcha:" + settings.SECRET_KEY


def challenge_new() -> dict:
    challenge = altcha.v1.create_challenge(
        altcha.v1.ChallengeOptions(
            algorithm="SHA-256",
            max_number=settings.ALTCHA_MAX_NUMBER,
            hmac_key=_key(),
            expires=timezone.now() + CHALLENGE_LIFETIME,
        )
    )
    return challenge.to_dict()


def _signature_of_solution(payload: str) -> str | None:
    """The challenge's signature when `payload` solves an unexpired challenge of ours."""
    if not payload or len(payload) > 2000:
        return None
    try:
        ok, _error = altcha.v1.verify_solution(payload, _key(), check_expires=True)
        if not ok:
            return None
        return str(json.loads(base64.b64decode(payload))["signature"])
    except Exception:  # noqa: BLE001 - anyone can send anything here: it is simply no solution
        return None


def solution_accept(payload: str) -> bool:
    """True once for a correct, unexpired, unused solution, which is then used up; False
    otherwise. A few hashes: the public form asks this before anything costly."""
    signature = _signature_of_solution(payload)
    if signature is None:
        return False
    # cache.add is atomic in Redis: of two submissions of one solution, one is accepted.
    return cache.add(
        f"altcha-used:{signature}", 1, timeout=int(CHALLENGE_LIFETIME.total_seconds()) + 60
    )
