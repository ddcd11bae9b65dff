"""Delivery to the operator: a claim per attempt, the signed call, the answer recorded, and
the sweeper that re-queues what was lost."""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from requests import PreparedRequest
from requests.adapters import HTTPAdapter

from accounts import signing
from accounts.endpoints import resolve_endpoint
from accounts.models import Platform
from config.logs import REQUEST_ID_HEADER, current_request_id
from moderation.audit import Actor
from moderation.models import (
    DeliveryAttempt,
    RestoreAttempt,
    RestoreRequest,
    TakedownRequest,
)
from moderation.takedowns.services.common import (
    DELIVER_TASK,
    DUE_TOLERANCE,
    RESTORE_TASK,
    Status,
    audit_batch,
    audit_later,
    enqueue_delivery,
    logger,
    request_ended,
    restore_ended,
)

# --- delivery ------------------------------------------------------------------------------

_RATE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
local ttl = math.floor((slot + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', ttl)
return slot - now
"""
_redis_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _redis_client
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _redis_client


def platform_rate_wait(*, platform: Platform) -> float:
    """Reserve the platform's next sending slot, shared by every worker through Redis, and
    return how many seconds to wait for it. Redis unreachable: no wait (the operator's own
    429 still protects it), logged."""
    interval_us = int(1_000_000 / platform.rate_limit_per_second)
    try:
        wait_us = _redis().eval(_RATE_SCRIPT, 1, f"saring:rate:{platform.slug}", interval_us)
    except redis.RedisError:
        logger.warning("rate limiter unavailable for %s; sending unthrottled", platform.slug)
        return 0.0
    return max(0.0, int(wait_us) / 1_000_000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def takedown_callback_url(platform: Platform) -> str:
    return settings.SITE_URL + reverse("operator-callback", args=[platform.slug])


def takedown_payload(request: TakedownRequest) -> dict:
    """The body DESIGN.md "Takedown request to an operator" defines, field for field."""
    account = request.account
    return {
        "request_id": str(request.pk),
        "platform": request.platform.slug,
        "account": {
            "identifier": account.identifier,
            "display_name": account.display_name,
            "profile_url": account.profile_url,
        },
        "category": request.category,
        "legal_basis": request.legal_basis,
        "urgency": request.urgency,
        "issued_at": _iso(request.issued_at),
        "deadline": _iso(request.deadline),
        "summary": request.summary,
        "callback_url": takedown_callback_url(request.platform),
    }


def restore_payload(request: RestoreRequest) -> dict:
    """The body docs/objections.md "Restore request to the operator" defines."""
    account = request.account
    objection = request.objection
    return {
        "request_id": str(request.pk),
        "platform": request.platform.slug,
        "takedown_request_id": str(request.takedown_id),
        "account": {
            "identifier": account.identifier,
            "display_name": account.display_name,
            "profile_url": account.profile_url,
        },
        "objection": {
            "id": objection.receipt_code,
            "reference": objection.operator_reference or None,
            "outcome": objection.status,
            "reason": request.reason,
        },
        "issued_at": _iso(request.issued_at),
        "callback_url": takedown_callback_url(request.platform),
    }


@dataclass(frozen=True)
class Outbox:
    """One kind of message to operators, delivered by the same machinery: takedown requests
    (DESIGN.md) and restore requests of granted objections (docs/objections.md)."""

    kind: str  # the audit actions' prefix: "takedown" or "restore"
    model: Any  # TakedownRequest | RestoreRequest
    attempts: Any  # DeliveryAttempt | RestoreAttempt
    payload: Callable[[Any], dict]
    url: Callable[[Platform], str]
    task: str
    related: tuple[str, ...]  # what the payload reads, fetched with the claimed row
    ended: Callable[..., None]  # the request is over (refused at delivery)


TAKEDOWNS = Outbox(
    kind="takedown",
    model=TakedownRequest,
    attempts=DeliveryAttempt,
    payload=takedown_payload,
    url=lambda platform: platform.endpoint_url,
    task=DELIVER_TASK,
    related=("platform", "account"),
    ended=request_ended,
)
RESTORES = Outbox(
    kind="restore",
    model=RestoreRequest,
    attempts=RestoreAttempt,
    payload=restore_payload,
    url=lambda platform: platform.restore_url,
    task=RESTORE_TASK,
    related=("platform", "account", "objection"),
    ended=restore_ended,
)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50–100 % of that."""
    base = settings.TAKEDOWN_BACKOFF_BASE_SECONDS
    cap = min(settings.TAKEDOWN_BACKOFF_MAX_SECONDS, base * 2 ** max(0, attempt - 1))
    return cap * (0.5 + random.random() / 2)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at least
    RETRY_AFTER_MIN_SECONDS and at most TAKEDOWN_RETRY_AFTER_MAX_SECONDS; None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    cap = settings.TAKEDOWN_RETRY_AFTER_MAX_SECONDS
    if value.isascii() and value.isdigit():
        # More digits than any cap needs: no int() of a 5,000-digit header.
        seconds = cap if len(value) > 9 else min(int(value), cap)
        return float(max(seconds, RETRY_AFTER_MIN_SECONDS))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(RETRY_AFTER_MIN_SECONDS, (moment - timezone.now()).total_seconds()), cap)


# "Retry-After: 0" (or a date gone by) waits this long, not a busy loop against the operator.
RETRY_AFTER_MIN_SECONDS = 1.0


EXCERPT_CHARACTERS = 200


def excerpt(text: str) -> str:
    """What is kept and shown of an operator's answer: printable characters only, spaces
    collapsed, at most EXCERPT_CHARACTERS."""
    printable = "".join(c if unicodedata.category(c)[0] not in "CZ" else " " for c in text)
    flat = " ".join(printable.split())
    return flat if len(flat) <= EXCERPT_CHARACTERS else flat[: EXCERPT_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class _Answer:
    outcome: str  # acknowledged | duplicate | throttled | refused | server_error | timeout | …
    http_status: int | None
    latency_ms: int
    error: str = ""
    reference: str = ""
    retry_after: float | None = None


def _call_operator(request: Any, outbox: Outbox = TAKEDOWNS) -> _Answer:
    body = json.dumps(outbox.payload(request), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(request.pk),
        **signing.signed_headers(request.platform.signing_secret, body),
    }
    trace = current_request_id()  # the approval's request, when this task came from one
    if trace:
        headers[REQUEST_ID_HEADER] = trace
    timeout = settings.OPERATOR_TIMEOUT_SECONDS
    started = time.monotonic()
    url = outbox.url(request.platform)
    if not url:  # only a restore endpoint may be unset (the takedown endpoint is required)
        return _Answer(
            "no_endpoint", None, 0, _("the platform has no restore endpoint URL; nothing sent")
        )
    resolved = resolve_endpoint(url)
    if resolved.problem:  # nothing is sent to an address inside our own network
        return _Answer("endpoint_refused", None, _ms(started), resolved.problem)
    session, pinned = _http_session()
    pinned.address = resolved.address  # connect where the check looked, not where DNS says now
    try:
        response = session.post(
            url,
            data=body,
            headers={**headers, "Host": _host_header(url)},
            timeout=(timeout, timeout),
            allow_redirects=False,  # a 307 would re-POST the signed order wherever it points
        )
    except requests.Timeout as exc:
        return _Answer(
            "timeout", None, _ms(started), excerpt(f"timeout after {timeout:g} s: {exc}")
        )
    except (requests.RequestException, ValueError, UnicodeError) as exc:
        # ValueError/UnicodeError: what urllib3 raises for a URL it cannot use after all. A
        # send that raised would otherwise leave the request "sent" for the sweeper to take
        # back as lost, which never counts, over and over.
        return _Answer(
            "connection_error", None, _ms(started), excerpt(f"{type(exc).__name__}: {exc}")
        )
    latency = _ms(started)
    status = response.status_code
    text = excerpt(response.text[:4000])
    if 300 <= status < 400:
        where = excerpt(response.headers.get("Location", ""))
        return _Answer(
            "redirected",
            status,
            latency,
            _("HTTP %(status)s: the operator redirects to %(where)s; not followed")
            % {"status": status, "where": where[:120] or "—"},
        )
    if 200 <= status < 300 or status == 409:
        try:
            reference = excerpt(str(response.json().get("reference") or ""))
        except (ValueError, AttributeError):
            reference = ""
        outcome = "duplicate" if status == 409 else "acknowledged"
        return _Answer(outcome, status, latency, reference=reference)
    if status == 429:
        return _Answer(
            "throttled",
            status,
            latency,
            f"HTTP 429: {text}",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if 400 <= status < 500:
        return _Answer("refused", status, latency, f"HTTP {status}: {text}")
    return _Answer("server_error", status, latency, f"HTTP {status}: {text}")


def _host_header(url: str) -> str:
    """The Host header for `url` as requests sends it: an internationalised name in its
    ASCII (IDNA) form, the same name TLS is given."""
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return urlsplit(str(prepared.url)).netloc


if not hasattr(HTTPAdapter, "build_connection_pool_key_attributes"):  # requests < 2.32.2
    raise ImportError("requests 2.32.2 or later is needed to pin deliveries to checked addresses")


class _PinnedAdapter(HTTPAdapter):
    """Connects to `address`, the one `resolve_endpoint` approved for this send, instead of
    resolving the host name again when a connection opens (DNS rebinding). The Host header
    carries the name, and HTTPS still checks the certificate against it (SNI and hostname)."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.address = ""

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:  # requests' (host params, pool kwargs); typeshed's types know no SNI keys
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if not self.address:
            raise requests.ConnectionError("no checked address to connect to")
        host: dict[str, Any] = dict(host_params)
        pool: dict[str, Any] = dict(pool_kwargs)
        hostname = host["host"]
        host["host"] = self.address
        if host["scheme"] == "https":
            pool["server_hostname"] = hostname
            pool["assert_hostname"] = hostname
        return host, pool


_local = threading.local()


def _http_session() -> tuple[requests.Session, _PinnedAdapter]:
    """One keep-alive session per thread (no new TCP connection for every request), which
    takes no proxy from the environment (it would connect somewhere unchecked)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        adapter = _PinnedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session, _local.adapter = session, adapter
    return session, _local.adapter


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _commit_without_waiting_for_disk() -> None:
    """For delivery bookkeeping only: its transactions may commit without waiting for the
    WAL flush. A crash can then forget the last few milliseconds of attempts, which costs a
    repeat delivery under the same Idempotency-Key (answered 409), never a lost or doubled
    takedown. It matters because the audit chain's lock is held until commit, so every
    flush we wait for here is one that approvals and callbacks wait for too. Approvals,
    callbacks and supervisors' actions keep full durability."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim(request_id: str, now: datetime, outbox: Outbox = TAKEDOWNS) -> Any:
    """pending -> sent, if due, by one conditional update: the row count says who won."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE)
    won = (
        outbox.model.objects.filter(due, pk=request_id, status=Status.PENDING)
        .exclude(platform__active=False)
        .update(status=Status.SENT, sent_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    if won != 1:
        return None
    return outbox.model.objects.select_related(*outbox.related).get(pk=request_id)


def takedown_deliver(*, request_id: str) -> str:
    """Deliver one request to its operator, if it is pending and due; return what happened.

    Safe to call any number of times, from any number of workers: only the caller whose
    conditional update moved the row to `sent` calls the operator."""
    return _deliver(str(request_id), TAKEDOWNS)


def restore_deliver(*, request_id: str) -> str:
    """Deliver one restore request, exactly as takedown_deliver does a takedown request."""
    return _deliver(str(request_id), RESTORES)


def _deliver(request_id: str, outbox: Outbox) -> str:
    try:
        uuid.UUID(str(request_id))
    except ValueError:
        return "unknown"
    now = timezone.now()
    with transaction.atomic(), audit_batch():
        _commit_without_waiting_for_disk()
        request = _claim(str(request_id), now, outbox)
        if request is None:
            return "skipped"
        # The attempt row records the send; the audit event comes with its outcome (or with
        # the sweeper's reclaim, if the worker never reports back).
        attempt = outbox.attempts.objects.create(
            request=request, number=request.attempts, started_at=now, outcome="in_progress"
        )
    wait = platform_rate_wait(platform=request.platform)
    if wait:
        time.sleep(wait)
    answer = _call_operator(request, outbox)
    return _record_answer(request=request, attempt=attempt, answer=answer, outbox=outbox)


def _record_answer(
    *, request: Any, attempt: Any, answer: _Answer, outbox: Outbox = TAKEDOWNS
) -> str:
    now = timezone.now()
    number = attempt.number
    retry_in: float | None = None
    with transaction.atomic(), audit_batch():
        _commit_without_waiting_for_disk()
        attempt.http_status = answer.http_status
        attempt.latency_ms = answer.latency_ms
        attempt.outcome = answer.outcome
        attempt.error = answer.error
        changes: dict = {"updated_at": now}
        action = ""
        if answer.outcome in ("acknowledged", "duplicate"):
            changes |= {
                "status": Status.ACKNOWLEDGED,
                "acknowledged_at": now,
                "operator_reference": answer.reference,
                "last_error": "",
                "next_attempt_at": None,
                "throttled_since": None,
            }
            action = f"{outbox.kind}.acknowledged"
        elif answer.outcome == "refused":
            changes |= {
                "status": Status.REFUSED,
                "resolved_at": now,
                "last_error": answer.error,
                "next_attempt_at": None,
            }
            action = f"{outbox.kind}.refused"
        elif answer.outcome == "throttled":  # waits; never counts as a failed attempt
            since = request.throttled_since or now
            changes["throttled_since"] = since
            if (now - since).total_seconds() > settings.TAKEDOWN_THROTTLED_GIVE_UP_SECONDS:
                changes |= {
                    "status": Status.FAILED,
                    "last_error": _("throttled (HTTP 429) since %(since)s; given up")
                    % {"since": _iso(since)},
                    "next_attempt_at": None,
                }
                action = f"{outbox.kind}.failed"
            else:
                retry_in = answer.retry_after if answer.retry_after is not None else retry_delay(1)
                changes |= {
                    "status": Status.PENDING,
                    "last_error": answer.error,
                    "next_attempt_at": now + timedelta(seconds=retry_in),
                }
                action = f"{outbox.kind}.retry_scheduled"
        else:
            failures = request.failures + 1
            changes |= {"failures": failures, "throttled_since": None, "last_error": answer.error}
            # Nowhere to send it: retrying cannot help until an administrator sets the address,
            # so it is a dead letter at once, for a supervisor to retry after that.
            if failures >= settings.TAKEDOWN_MAX_ATTEMPTS or answer.outcome == "no_endpoint":
                changes |= {"status": Status.FAILED, "next_attempt_at": None}
                action = f"{outbox.kind}.failed"
            else:
                retry_in = retry_delay(failures)
                changes |= {
                    "status": Status.PENDING,
                    "next_attempt_at": now + timedelta(seconds=retry_in),
                }
                action = f"{outbox.kind}.retry_scheduled"
        # Only if nobody moved the row on meanwhile (a sweeper reclaim, a callback, a cancel).
        moved = outbox.model.objects.filter(
            pk=request.pk, status=Status.SENT, attempts=number
        ).update(**changes)
        if not moved:
            attempt.error = (attempt.error + " " if attempt.error else "") + (
                "(the request had moved on meanwhile; this answer changed nothing)"
            )
            attempt.save(update_fields=["http_status", "latency_ms", "outcome", "error"])
            return answer.outcome + ":stale"
        attempt.save(update_fields=["http_status", "latency_ms", "outcome", "error"])
        audit_later(
            actor=Actor.system("delivery"),
            action=action,
            subject=request,
            data={
                "attempt": number,
                "sent_at": attempt.started_at,
                "http_status": answer.http_status,
                "outcome": answer.outcome,
                "error": answer.error[:500],
                "reference": answer.reference,
                "retry_in_s": retry_in,
                "failed_attempts": changes.get("failures", request.failures),
                "before": {"status": Status.SENT},
                "after": {"status": changes["status"]},
            },
        )
        if changes["status"] == Status.REFUSED:
            outbox.ended(request=request, outcome=Status.REFUSED, actor=Actor.system("delivery"))
        if retry_in is not None:
            transaction.on_commit(
                lambda: enqueue_delivery(str(request.pk), countdown=retry_in, task=outbox.task)
            )
    return answer.outcome


# --- the sweeper -----------------------------------------------------------------------------


def takedown_sweep(*, limit: int = 500) -> list[str]:
    """Re-queue lost takedown requests (below); restore_sweep does the same for restores."""
    return _sweep(TAKEDOWNS, limit=limit)


def restore_sweep(*, limit: int = 500) -> list[str]:
    return _sweep(RESTORES, limit=limit)


def _sweep(outbox: Outbox, *, limit: int) -> list[str]:
    """Re-queue what a lost message or a lost worker left behind (Celery beat runs it).

    - `sent` for longer than TAKEDOWN_STUCK_AFTER_SECONDS: the worker died mid-call. The row
      goes back to pending; its unfinished attempt is marked lost.
    - `pending` and due for longer than TAKEDOWN_SWEEP_GRACE_SECONDS: its message was lost
      (e.g. Redis was down at approval). Its next_attempt_at is moved to now, so the next
      sweep leaves it alone while the queued message waits for a worker.
    Rows are claimed with FOR UPDATE SKIP LOCKED, so concurrent sweepers split the work; only
    the request rows are locked, never the platform row they are filtered by (an approval's
    foreign-key check takes a share lock on it at commit: locking it here deadlocked them)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.TAKEDOWN_STUCK_AFTER_SECONDS)
    due_before = now - timedelta(seconds=settings.TAKEDOWN_SWEEP_GRACE_SECONDS)
    queued: list[str] = []
    with transaction.atomic(), audit_batch():
        stuck = list(
            outbox.model.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.SENT, sent_at__lt=stuck_before)
            .order_by("sent_at")[:limit]
        )
        for request in stuck:
            error = _("worker lost during attempt %(n)s; no answer was recorded") % {
                "n": request.attempts
            }
            outbox.attempts.objects.filter(
                request=request, number=request.attempts, outcome="in_progress"
            ).update(outcome="lost", error=error)
            outbox.model.objects.filter(pk=request.pk).update(
                status=Status.PENDING, next_attempt_at=now, last_error=error, updated_at=now
            )
            audit_later(
                actor=Actor.system("sweeper"),
                action=f"{outbox.kind}.reclaimed",
                subject=request,
                data={
                    "attempt": request.attempts,
                    "before": {"status": Status.SENT},
                    "after": {"status": Status.PENDING},
                },
            )
            queued.append(str(request.pk))
        due = list(
            outbox.model.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, platform__active=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due_before))
            .exclude(pk__in=queued)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            outbox.model.objects.filter(pk__in=due).update(next_attempt_at=now)
        queued += [str(pk) for pk in due]
        transaction.on_commit(lambda: [enqueue_delivery(pk, task=outbox.task) for pk in queued])
    return queued
