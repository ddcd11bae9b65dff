"""Four-eyes approval and the delivery of takedown requests to operators (issue 5).

DESIGN.md "Takedown request to an operator", "Delivery guarantees" and "Deadlines":

- An approval writes the TakedownRequest row in its own transaction (the outbox) and queues
  the delivery task on commit. If Redis is down then, the approval still succeeds; the
  sweeper finds the row later.
- A delivery claims its row with a conditional update (pending -> sent), so only one worker
  calls the operator for a request at a time; the request id is the Idempotency-Key on every
  attempt, so a repeat after a lost worker is answered 409 and acted on once.
- Each HTTP call is a DeliveryAttempt: the history that explains what happened.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis
import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signing
from accounts.categories import URGENT_CATEGORIES, Urgency
from accounts.models import ChatAccount, Platform
from config.roles import Role, has_role
from moderation.models import (
    Approval,
    Case,
    CaseNote,
    Decision,
    DeliveryAttempt,
    TakedownRequest,
)
from moderation.services.audit import Actor, audit_record

_audit_batch_var: ContextVar[list | None] = ContextVar("takedown_audit_batch", default=None)


@contextmanager
def _audit_batch():
    """Hold this block's audit events and append them at its end, still inside the caller's
    transaction. The chain's advisory lock is then held only for the appends themselves,
    not for every write before them, so approvals and deliveries do not queue behind it."""
    token = _audit_batch_var.set([])
    try:
        yield
        for event in _audit_batch_var.get():
            audit_record(**event)
    finally:
        _audit_batch_var.reset(token)


def _audit(**event) -> None:
    batch = _audit_batch_var.get()
    if batch is None:
        audit_record(**event)
    else:
        batch.append(event)


logger = logging.getLogger("saring.takedowns")

DEADLINE = timedelta(hours=24)
URGENT_DEADLINE = timedelta(hours=4)

Status = TakedownRequest.Status
# Not yet confirmed by the operator: these can become overdue and climb the warning ladder.
UNCONFIRMED = (Status.PENDING, Status.SENT, Status.ACKNOWLEDGED, Status.FAILED)
CANCELLABLE = (Status.PENDING, Status.FAILED)
FINAL = (Status.TAKEN_DOWN, Status.REFUSED, Status.NOT_FOUND, Status.CANCELLED)
# A queued message may reach the worker a little before the row's next_attempt_at.
DUE_TOLERANCE = timedelta(milliseconds=200)


class ApprovalRefused(Exception):
    """The proposal cannot be approved or rejected; the message says why, for a person."""


class TakedownActionRefused(Exception):
    """A retry or cancel that does not fit the request's state."""


# --- approval ------------------------------------------------------------------------------


def takedown_deadline(*, issued_at: datetime, urgency: str) -> datetime:
    return issued_at + (URGENT_DEADLINE if urgency == Urgency.URGENT else DEADLINE)


def takedown_urgency(*, decision: Decision, marked_urgent: bool = False) -> str:
    """Urgent (4 hours) for urgent categories, or when the moderator or supervisor says so."""
    category = decision.category or decision.case.category
    if marked_urgent or decision.urgency == Urgency.URGENT or category in URGENT_CATEGORIES:
        return Urgency.URGENT
    return Urgency.NORMAL


def _locked_proposal(*, decision_id: int, supervisor) -> Decision:
    """The decision with its case row locked, after every check a person can be told about."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise ApprovalRefused(_("Only supervisors may approve or reject proposals."))
    # One query: the decision, and its case row locked, so that two supervisors deciding at
    # once are serialised here.
    decision = (
        Decision.objects.select_related("case__account__platform", "legal_basis")
        .select_for_update(of=("case",))
        .filter(pk=decision_id)
        .first()
    )
    if decision is None or decision.outcome != Decision.Outcome.PROPOSE_TAKEDOWN:
        raise ApprovalRefused(_("There is no such takedown proposal."))
    case = decision.case
    if decision.moderator_id == supervisor.pk:
        raise ApprovalRefused(
            _("You cannot decide on your own proposal: another supervisor must (four eyes).")
        )
    if Approval.objects.filter(decision=decision).exists():
        raise ApprovalRefused(_("This proposal has already been decided."))
    if case.status != Case.Status.PROPOSED:
        raise ApprovalRefused(_("The case is no longer awaiting approval."))
    return decision


def _summary(decision: Decision) -> str:
    return decision.rationale.strip()[:2000]


def _enqueue_delivery(request_id: str, *, countdown: float | None = None) -> bool:
    """Queue the delivery task; a broker outage is logged, never raised (the sweeper retries).

    The connection gets one quick retry, not kombu's default back-off of several seconds:
    a supervisor's approval must not hang while Redis is away."""
    from config.celery import app
    from moderation.tasks.delivery import takedown_deliver_task

    try:
        with app.pool.acquire(block=True, timeout=2) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0.1, timeout=2)
            takedown_deliver_task.apply_async(
                args=[str(request_id)], countdown=countdown, retry=False, connection=connection
            )
    except Exception:  # noqa: BLE001 - any broker failure: the outbox row is safe
        logger.warning(
            "could not queue delivery of takedown %s; the sweeper will pick it up",
            request_id,
            exc_info=True,
        )
        return False
    return True


def proposal_approve(
    *,
    decision_id: int,
    supervisor,
    comment: str = "",
    marked_urgent: bool = False,
    ip_address: str | None = None,
) -> TakedownRequest:
    """Approve another person's proposal: the approval, the outbox row and their audit events
    commit together; the delivery task is queued after the commit."""
    with transaction.atomic(), _audit_batch():
        decision = _locked_proposal(decision_id=decision_id, supervisor=supervisor)
        case = decision.case
        account = case.account
        now = timezone.now()
        actor = Actor.staff(supervisor)
        approval = Approval(
            decision=decision,
            decision_author_id=decision.moderator_id,
            supervisor=supervisor,
            verdict=Approval.Verdict.APPROVED,
            comment=comment.strip(),
            created_at=now,
        )
        # The database checks the rest: one approval per decision, four eyes, the author.
        approval.save(force_insert=True)
        urgency = takedown_urgency(decision=decision, marked_urgent=marked_urgent)
        request = TakedownRequest(
            id=uuid.uuid4(),
            approval=approval,
            case=case,
            platform=account.platform,
            account=account,
            category=decision.category or case.category,
            legal_basis=decision.legal_basis.title if decision.legal_basis else "",
            urgency=urgency,
            summary=_summary(decision),
            issued_at=now,
            deadline=takedown_deadline(issued_at=now, urgency=urgency),
            status=Status.PENDING,
            next_attempt_at=now,
        )
        request.save(force_insert=True)
        _audit(
            actor=actor,
            action="takedown.issued",
            subject=request,
            data={
                "platform": account.platform.slug,
                "account": account.identifier,
                "urgency": urgency,
                "deadline": request.deadline,
                "after": {"status": request.status},
            },
            ip_address=ip_address,
        )
        # One event for the approval and what it changes, one for the request it issues:
        # every append holds the audit chain's lock, which all writers share.
        case_change = _case_set_status(case=case, status=Case.Status.APPROVED, audit=False)
        account_change = _account_set_status(
            account=account, status=ChatAccount.Status.TAKEDOWN_REQUESTED, audit=False
        )
        _audit(
            actor=actor,
            action="approval.approved",
            subject=approval,
            data={
                "decision": decision.pk,
                "comment": approval.comment,
                "request": str(request.pk),
                "case": {"id": case.pk, **case_change},
                "account": {"id": account.pk, **account_change},
            },
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: _enqueue_delivery(str(request.pk)))
    return request


def proposal_reject(
    *, decision_id: int, supervisor, comment: str, ip_address: str | None = None
) -> Approval:
    """Reject: the case goes back to the queue (open, unclaimed) with the comment as a note."""
    comment = (comment or "").strip()
    if not comment:
        raise ApprovalRefused(_("Say why the proposal is rejected: the moderator will read it."))
    with transaction.atomic(), _audit_batch():
        decision = _locked_proposal(decision_id=decision_id, supervisor=supervisor)
        case = decision.case
        actor = Actor.staff(supervisor)
        approval = Approval(
            decision=decision,
            decision_author_id=decision.moderator_id,
            supervisor=supervisor,
            verdict=Approval.Verdict.REJECTED,
            comment=comment,
        )
        # The database checks the rest: one approval per decision, four eyes, the author.
        approval.save(force_insert=True)
        _audit(
            actor=actor,
            action="approval.rejected",
            subject=approval,
            data={"decision": decision.pk, "case": case.pk, "comment": comment},
            ip_address=ip_address,
        )
        note = CaseNote.objects.create(
            case=case,
            author=supervisor,
            body=_("Takedown proposal rejected: %(comment)s") % {"comment": comment},
        )
        _audit(
            actor=actor,
            action="case.note_added",
            subject=case,
            data={"note": note.pk, "body": note.body},
            ip_address=ip_address,
        )
        _case_set_status(case=case, status=Case.Status.OPEN, actor=actor, ip=ip_address)
    return approval


@dataclass
class BulkResult:
    approved: list[TakedownRequest] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (decision id, why)


def proposals_bulk_approve(
    *,
    decision_ids: Iterable[int],
    supervisor,
    comment: str = "",
    ip_address: str | None = None,
) -> BulkResult:
    """Approve each selected proposal in its own transaction: one that cannot be approved
    (e.g. the supervisor's own) is reported and does not hold back the others."""
    result = BulkResult()
    for decision_id in dict.fromkeys(decision_ids):
        try:
            result.approved.append(
                proposal_approve(
                    decision_id=decision_id,
                    supervisor=supervisor,
                    comment=comment,
                    ip_address=ip_address,
                )
            )
        except ApprovalRefused as refusal:
            result.refused.append((decision_id, str(refusal)))
    return result


def _case_set_status(
    *, case: Case, status: str, actor: Actor | None = None, ip: str | None = None, audit=True
) -> dict:
    """Change the case's status; audited here unless the caller records it in its own event."""
    before = case.status
    case.status = status
    case.version = F("version") + 1
    fields = ["status", "version", "updated_at"]
    if status == Case.Status.OPEN:
        case.claimed_by = None
        case.claim_expires_at = None
        fields += ["claimed_by", "claim_expires_at"]
    if status == Case.Status.CLOSED:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    case.save(update_fields=fields)
    case.refresh_from_db(fields=["version"])
    change = {"before": {"status": before}, "after": {"status": status}}
    if audit:
        _audit(actor=actor, action="case.status_changed", subject=case, data=change, ip_address=ip)
    return change


def _account_set_status(
    *,
    account: ChatAccount,
    status: str,
    actor: Actor | None = None,
    ip: str | None = None,
    audit=True,
) -> dict:
    before = account.status
    change = {"before": {"status": before}, "after": {"status": status}}
    if before == status:
        return change
    account.status = status
    account.save(update_fields=["status", "updated_at"])
    if audit:
        _audit(
            actor=actor,
            action="account.status_changed",
            subject=account,
            data=change,
            ip_address=ip,
        )
    return change


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


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50–100 % of that."""
    base = settings.TAKEDOWN_BACKOFF_BASE_SECONDS
    cap = min(settings.TAKEDOWN_BACKOFF_MAX_SECONDS, base * 2 ** max(0, attempt - 1))
    return cap * (0.5 + random.random() / 2)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - timezone.now()).total_seconds())


@dataclass(frozen=True)
class _Answer:
    outcome: str  # acknowledged | duplicate | throttled | refused | server_error | timeout | …
    http_status: int | None
    latency_ms: int
    error: str = ""
    reference: str = ""
    retry_after: float | None = None


def _call_operator(request: TakedownRequest) -> _Answer:
    body = json.dumps(takedown_payload(request), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(request.pk),
        **signing.signed_headers(request.platform.signing_secret, body),
    }
    timeout = settings.OPERATOR_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        response = _http_session().post(
            request.platform.endpoint_url, data=body, headers=headers, timeout=(timeout, timeout)
        )
    except requests.Timeout as exc:
        return _Answer("timeout", None, _ms(started), f"timeout after {timeout:g} s: {exc}")
    except requests.RequestException as exc:
        return _Answer("connection_error", None, _ms(started), f"{type(exc).__name__}: {exc}")
    latency = _ms(started)
    status = response.status_code
    text = response.text[:1000]
    if 200 <= status < 300 or status == 409:
        try:
            reference = str(response.json().get("reference") or "")[:200]
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


_local = threading.local()


def _http_session() -> requests.Session:
    """One keep-alive session per thread: no new TCP connection for every request."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


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


def _claim(request_id: str, now: datetime) -> TakedownRequest | None:
    """pending -> sent, if due, by one conditional update: the row count says who won."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE)
    won = (
        TakedownRequest.objects.filter(due, pk=request_id, status=Status.PENDING)
        .exclude(platform__active=False)
        .update(status=Status.SENT, sent_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    if won != 1:
        return None
    return TakedownRequest.objects.select_related("platform", "account").get(pk=request_id)


def takedown_deliver(*, request_id: str) -> str:
    """Deliver one request to its operator, if it is pending and due; return what happened.

    Safe to call any number of times, from any number of workers: only the caller whose
    conditional update moved the row to `sent` calls the operator."""
    try:
        uuid.UUID(str(request_id))
    except ValueError:
        return "unknown"
    now = timezone.now()
    with transaction.atomic(), _audit_batch():
        _commit_without_waiting_for_disk()
        request = _claim(str(request_id), now)
        if request is None:
            return "skipped"
        # The attempt row records the send; the audit event comes with its outcome (or with
        # the sweeper's reclaim, if the worker never reports back).
        attempt = DeliveryAttempt.objects.create(
            request=request, number=request.attempts, started_at=now, outcome="in_progress"
        )
    wait = platform_rate_wait(platform=request.platform)
    if wait:
        time.sleep(wait)
    answer = _call_operator(request)
    return _record_answer(request=request, attempt=attempt, answer=answer)


def _record_answer(*, request: TakedownRequest, attempt: DeliveryAttempt, answer: _Answer) -> str:
    now = timezone.now()
    number = attempt.number
    retry_in: float | None = None
    with transaction.atomic(), _audit_batch():
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
            }
            action = "takedown.acknowledged"
        elif answer.outcome == "refused":
            changes |= {
                "status": Status.REFUSED,
                "resolved_at": now,
                "last_error": answer.error,
                "next_attempt_at": None,
            }
            action = "takedown.refused"
        elif number % settings.TAKEDOWN_MAX_ATTEMPTS == 0:
            changes |= {
                "status": Status.FAILED,
                "last_error": answer.error,
                "next_attempt_at": None,
            }
            action = "takedown.failed"
        else:
            retry_in = (
                answer.retry_after
                if answer.outcome == "throttled" and answer.retry_after is not None
                else retry_delay(number)
            )
            changes |= {
                "status": Status.PENDING,
                "last_error": answer.error,
                "next_attempt_at": now + timedelta(seconds=retry_in),
            }
            action = "takedown.retry_scheduled"
        # Only if nobody moved the row on meanwhile (a sweeper reclaim, a callback, a cancel).
        moved = TakedownRequest.objects.filter(
            pk=request.pk, status=Status.SENT, attempts=number
        ).update(**changes)
        if not moved:
            attempt.error = (attempt.error + " " if attempt.error else "") + (
                "(the request had moved on meanwhile; this answer changed nothing)"
            )
            attempt.save(update_fields=["http_status", "latency_ms", "outcome", "error"])
            return answer.outcome + ":stale"
        attempt.save(update_fields=["http_status", "latency_ms", "outcome", "error"])
        _audit(
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
                "before": {"status": Status.SENT},
                "after": {"status": changes["status"]},
            },
        )
        if changes["status"] == Status.REFUSED:
            _request_ended(request=request, outcome=Status.REFUSED, actor=Actor.system("delivery"))
        if retry_in is not None:
            transaction.on_commit(lambda: _enqueue_delivery(str(request.pk), countdown=retry_in))
    return answer.outcome


def _request_ended(*, request: TakedownRequest, outcome: str, actor: Actor, ip=None) -> None:
    """The takedown is over: set the account's status to fit and close the approved case."""
    account = ChatAccount.objects.select_for_update().get(pk=request.account_id)
    account_status = {
        Status.TAKEN_DOWN: ChatAccount.Status.TAKEN_DOWN,
        # The account is still there and still reported: back to review.
        Status.REFUSED: ChatAccount.Status.UNDER_REVIEW,
        Status.CANCELLED: ChatAccount.Status.UNDER_REVIEW,
        # The operator knows no such account: nothing is pending against it any more.
        Status.NOT_FOUND: ChatAccount.Status.ACTIVE,
    }[outcome]
    _account_set_status(account=account, status=account_status, actor=actor, ip=ip)
    case = Case.objects.select_for_update().get(pk=request.case_id)
    if case.status == Case.Status.APPROVED:
        _case_set_status(case=case, status=Case.Status.CLOSED, actor=actor, ip=ip)


# --- the sweeper -----------------------------------------------------------------------------


def takedown_sweep(*, limit: int = 500) -> list[str]:
    """Re-queue what a lost message or a lost worker left behind (Celery beat runs it).

    - `sent` for longer than TAKEDOWN_STUCK_AFTER_SECONDS: the worker died mid-call. The row
      goes back to pending; its unfinished attempt is marked lost.
    - `pending` and due for longer than TAKEDOWN_SWEEP_GRACE_SECONDS: its message was lost
      (e.g. Redis was down at approval). Its next_attempt_at is moved to now, so the next
      sweep leaves it alone while the queued message waits for a worker.
    Rows are claimed with FOR UPDATE SKIP LOCKED, so concurrent sweepers split the work."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.TAKEDOWN_STUCK_AFTER_SECONDS)
    due_before = now - timedelta(seconds=settings.TAKEDOWN_SWEEP_GRACE_SECONDS)
    queued: list[str] = []
    with transaction.atomic(), _audit_batch():
        stuck = list(
            TakedownRequest.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENT, sent_at__lt=stuck_before)
            .order_by("sent_at")[:limit]
        )
        for request in stuck:
            error = _("worker lost during attempt %(n)s; no answer was recorded") % {
                "n": request.attempts
            }
            DeliveryAttempt.objects.filter(
                request=request, number=request.attempts, outcome="in_progress"
            ).update(outcome="lost", error=error)
            TakedownRequest.objects.filter(pk=request.pk).update(
                status=Status.PENDING, next_attempt_at=now, last_error=error, updated_at=now
            )
            _audit(
                actor=Actor.system("sweeper"),
                action="takedown.reclaimed",
                subject=request,
                data={
                    "attempt": request.attempts,
                    "before": {"status": Status.SENT},
                    "after": {"status": Status.PENDING},
                },
            )
            queued.append(str(request.pk))
        due = list(
            TakedownRequest.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, platform__active=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due_before))
            .exclude(pk__in=queued)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            TakedownRequest.objects.filter(pk__in=due).update(next_attempt_at=now)
        queued += [str(pk) for pk in due]
        transaction.on_commit(lambda: [_enqueue_delivery(pk) for pk in queued])
    return queued


# --- operator callbacks ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackResult:
    http_status: int
    body: dict


CALLBACK_OUTCOMES = (Status.TAKEN_DOWN, Status.NOT_FOUND, Status.REFUSED)


def takedown_callback(
    *, platform_slug: str, headers, body: bytes, ip_address: str | None = None
) -> CallbackResult:
    """An operator's signed outcome. Anything not genuine and fresh changes nothing."""
    platform = Platform.objects.filter(slug=platform_slug).first()
    if platform is None:
        return CallbackResult(404, {"error": "unknown platform"})
    problem = signing.verify(
        platform.callback_secret,
        timestamp=headers.get(signing.TIMESTAMP_HEADER),
        signature=headers.get(signing.SIGNATURE_HEADER),
        body=body,
    )
    if problem:
        return CallbackResult(401, {"error": problem})
    try:
        payload = json.loads(body)
    except ValueError:
        return CallbackResult(400, {"error": "the body is not JSON"})
    if not isinstance(payload, dict):
        return CallbackResult(400, {"error": "the body must be a JSON object"})
    errors = {}
    try:
        request_id = uuid.UUID(str(payload.get("request_id")))
    except ValueError:
        errors["request_id"] = "must be the request's UUID"
    outcome = payload.get("status")
    if outcome not in CALLBACK_OUTCOMES:
        errors["status"] = f"must be one of {', '.join(CALLBACK_OUTCOMES)}"
    reason = payload.get("reason") or ""
    if not isinstance(reason, str):
        errors["reason"] = "must be a string"
    if errors:
        return CallbackResult(400, {"error": "invalid callback", "fields": errors})
    with transaction.atomic(), _audit_batch():
        request = (
            TakedownRequest.objects.select_for_update()
            .filter(pk=request_id, platform=platform)
            .first()
        )
        if request is None:
            return CallbackResult(404, {"error": "unknown request_id for this platform"})
        current = {"request_id": str(request.pk), "status": request.status}
        if request.status in FINAL:
            # A replay, or an outcome after a cancel: acknowledged, changes nothing.
            return CallbackResult(200, current | {"changed": False})
        before = request.status
        now = timezone.now()
        request.status = outcome
        request.resolved_at = now
        request.acknowledged_at = request.acknowledged_at or now
        request.next_attempt_at = None
        request.last_error = reason[:2000] if outcome != Status.TAKEN_DOWN else ""
        request.save(
            update_fields=[
                "status",
                "resolved_at",
                "acknowledged_at",
                "next_attempt_at",
                "last_error",
                "updated_at",
            ]
        )
        actor = Actor.operator(platform)
        _audit(
            actor=actor,
            action=f"takedown.{outcome}",
            subject=request,
            data={
                "reason": reason[:2000],
                "actioned_at": str(payload.get("actioned_at") or "")[:64],
                "before": {"status": before},
                "after": {"status": outcome},
            },
            ip_address=ip_address,
        )
        _request_ended(request=request, outcome=outcome, actor=actor, ip=ip_address)
    return CallbackResult(200, {"request_id": str(request.pk), "status": outcome, "changed": True})


# --- supervisors' retry and cancel --------------------------------------------------------


def takedown_retry(*, request_id, supervisor, ip_address: str | None = None) -> TakedownRequest:
    """A dead letter gets a fresh round of attempts, starting now."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may retry a takedown request."))
    now = timezone.now()
    with transaction.atomic(), _audit_batch():
        moved = TakedownRequest.objects.filter(pk=request_id, status=Status.FAILED).update(
            status=Status.PENDING, next_attempt_at=now, updated_at=now
        )
        if not moved:
            raise TakedownActionRefused(_("Only a failed request can be retried."))
        request = TakedownRequest.objects.get(pk=request_id)
        _audit(
            actor=Actor.staff(supervisor),
            action="takedown.retried",
            subject=request,
            data={"before": {"status": Status.FAILED}, "after": {"status": Status.PENDING}},
            ip_address=ip_address,
        )
        transaction.on_commit(lambda: _enqueue_delivery(str(request.pk)))
    return request


def takedown_cancel(
    *, request_id, supervisor, reason: str = "", ip_address: str | None = None
) -> TakedownRequest:
    """Withdraw a request the operator has not acknowledged. One being sent right now cannot
    be withdrawn (the operator may be acting on it): try again when the attempt ends."""
    if not has_role(supervisor, Role.SUPERVISOR):
        raise TakedownActionRefused(_("Only supervisors may cancel a takedown request."))
    now = timezone.now()
    with transaction.atomic(), _audit_batch():
        request = TakedownRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise TakedownActionRefused(_("There is no such takedown request."))
        if request.status == Status.SENT:
            raise TakedownActionRefused(
                _("The request is being delivered right now; try again in a moment.")
            )
        if request.status not in CANCELLABLE:
            raise TakedownActionRefused(
                _("Only a request the operator has not acknowledged can be cancelled.")
            )
        before = request.status
        request.status = Status.CANCELLED
        request.resolved_at = now
        request.next_attempt_at = None
        request.save(update_fields=["status", "resolved_at", "next_attempt_at", "updated_at"])
        actor = Actor.staff(supervisor)
        _audit(
            actor=actor,
            action="takedown.cancelled",
            subject=request,
            data={
                "reason": reason.strip()[:2000],
                "before": {"status": before},
                "after": {"status": Status.CANCELLED},
            },
            ip_address=ip_address,
        )
        _request_ended(request=request, outcome=Status.CANCELLED, actor=actor, ip=ip_address)
    return request


# --- SLA: overdue and the warning ladder ------------------------------------------------------


def warning_thresholds() -> list[tuple[int, timedelta]]:
    """(level, time past the deadline) for each step of the ladder, from settings."""
    hours = settings.TAKEDOWN_WARNING_AFTER_HOURS
    return [(level, timedelta(hours=h)) for level, h in zip((1, 2, 3), hours, strict=True)]


def takedown_sla_check(*, limit: int = 1000) -> dict[str, int]:
    """Mark requests overdue and climb the warning ladder; one audit event per step."""
    now = timezone.now()
    marked = warned = 0
    with transaction.atomic(), _audit_batch():
        rows = list(
            TakedownRequest.objects.select_for_update(skip_locked=True)
            .select_related("platform")
            .filter(status__in=UNCONFIRMED, deadline__lt=now)
            .filter(Q(overdue_at__isnull=True) | Q(warning_level__lt=3))
            .order_by("deadline")[:limit]
        )
        for request in rows:
            actor = Actor.system("sla")
            if request.overdue_at is None:
                request.overdue_at = now
                request.save(update_fields=["overdue_at", "updated_at"])
                _audit(
                    actor=actor,
                    action="takedown.overdue",
                    subject=request,
                    data={"deadline": request.deadline, "platform": request.platform.slug},
                )
                marked += 1
            late = now - request.deadline
            for level, after in warning_thresholds():
                if request.warning_level < level and late >= after:
                    before = request.warning_level
                    request.warning_level = level
                    request.save(update_fields=["warning_level", "updated_at"])
                    _audit(
                        actor=actor,
                        action="takedown.warning",
                        subject=request,
                        data={
                            "level": level,
                            "label": str(TakedownRequest.Warning(level).label),
                            "platform": request.platform.slug,
                            "hours_late": round(late.total_seconds() / 3600, 2),
                            "before": {"warning_level": before},
                            "after": {"warning_level": level},
                        },
                    )
                    warned += 1
    return {"overdue": marked, "warnings": warned}
