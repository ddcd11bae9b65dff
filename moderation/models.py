from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.categories import Category, Urgency
from accounts.models import ChatAccount, Platform


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_REVIEW = "in_review", _("In review")
        ESCALATED = "escalated", _("Escalated")
        PROPOSED = "proposed", _("Takedown proposed")
        APPROVED = "approved", _("Takedown approved")
        DISMISSED = "dismissed", _("Dismissed")
        CLOSED = "closed", _("Closed")

    # A case in one of these holds its account: a new report joins it.
    OPEN_STATUSES = ("open", "in_review", "escalated", "proposed", "approved")
    # Final: nothing happens to the case any more; its retention periods run from closed_at.
    FINAL_STATUSES = ("dismissed", "closed")

    account = models.ForeignKey(ChatAccount, on_delete=models.PROTECT, related_name="cases")
    previous_case = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default="open")
    # Denormalised from the reports, kept by the intake service, so the queue reads one table.
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    urgent = models.BooleanField(_("urgent"), default=False)
    report_count = models.PositiveIntegerField(default=0)
    reporter_count = models.PositiveIntegerField(default=0)
    source_kinds = models.CharField(max_length=64, blank=True)  # e.g. "ministry,public"
    priority = models.FloatField(_("priority"), default=0.0)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    last_report_at = models.DateTimeField(_("last report"), default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking: every change of state bumps it; a form carries the one it saw.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    # A legal hold (a supervisor's, with a reason): while it is set, retention deletes none of
    # the case's evidence or reporters' contact details. Its history is in the audit trail.
    legal_hold_at = models.DateTimeField(_("legal hold since"), null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_hold_reason = models.TextField(
        _("legal hold reason"), blank=True, default="", db_default=""
    )
    # "Returning" (issue 17): the account's picture, number or profile address matches an
    # account already taken down; set on arrival (moderation.rings), raises the priority.
    returning_from = models.ForeignKey(
        "TakedownRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returning_cases",
        verbose_name=_("returning after takedown"),
    )
    returning_via = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(
                    status__in=["open", "in_review", "escalated", "proposed", "approved"]
                ),
                name="case_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(claimed_by__isnull=True, claim_expires_at__isnull=True)
                    | models.Q(claimed_by__isnull=False, claim_expires_at__isnull=False)
                ),
                name="case_claim_has_expiry",
            ),
            # A hold has a time, a supervisor and a reason; no hold has none of them.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        legal_hold_at__isnull=True, legal_hold_by__isnull=True, legal_hold_reason=""
                    )
                    | (
                        models.Q(legal_hold_at__isnull=False, legal_hold_by__isnull=False)
                        & ~models.Q(legal_hold_reason="")
                    )
                ),
                name="case_legal_hold_complete",
            ),
        ]
        indexes = [
            models.Index(
                fields=["-priority", "id"],
                condition=models.Q(status="open"),
                name="case_queue_open_idx",
            ),
            models.Index(fields=["status", "-priority", "id"], name="case_status_priority_idx"),
            models.Index(fields=["claim_expires_at"], name="case_claim_expiry_idx"),
            # Retention (moderation/retention): final cases by the time they were closed.
            models.Index(
                fields=["closed_at"],
                condition=models.Q(status__in=["dismissed", "closed"]),
                name="case_final_closed_idx",
            ),
            # The reviewer queue (open and claimed cases) in its order, for keyset pages.
            models.Index(
                fields=["-priority", "id"],
                condition=models.Q(status__in=["open", "in_review"]),
                name="case_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"


class AccountRing(models.Model):
    """Which ring (connected component of the link graph: shared phone number, shared picture,
    shared profile address) an account belongs to, as last computed by
    moderation.rings.rings_rebuild. Only accounts in a ring of two or more have a row; `ring`
    is the smallest account id in it."""

    account = models.OneToOneField(
        ChatAccount, primary_key=True, on_delete=models.CASCADE, related_name="ring_membership"
    )
    ring = models.BigIntegerField()
    size = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ring"], name="accountring_ring_idx")]

    def __str__(self) -> str:
        return f"Account {self.account_id} in ring {self.ring}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note {self.pk} on case {self.case_id}"


class LegalBasis(models.Model):
    """A law or regulation a takedown can rest on; administrators edit the list."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    # The categories a takedown under this basis may have: a decision or an approval with a
    # category outside this list is refused (an article on decency does not cover terrorism).
    categories = ArrayField(
        models.CharField(max_length=32, choices=Category.choices),
        verbose_name=_("categories covered"),
        default=list,
        blank=True,
        help_text=_("The categories a takedown under this legal basis may have."),
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")

    def __str__(self) -> str:
        return self.title

    def covers(self, category: str) -> bool:
        """Whether a takedown of this category may rest on this basis."""
        return category in self.categories


class Decision(models.Model):
    class Outcome(models.TextChoices):
        DISMISS = "dismiss", _("Dismiss")
        PROPOSE_TAKEDOWN = "propose_takedown", _("Propose takedown")
        ESCALATE = "escalate", _("Escalate")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    category = models.CharField(max_length=32, choices=Category.choices, blank=True)
    legal_basis = models.ForeignKey(
        LegalBasis, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    rationale = models.TextField()
    case_version = models.PositiveIntegerField()  # the version the moderator decided on
    batch_id = models.UUIDField(null=True, blank=True)  # bulk dismissals share one
    created_at = models.DateTimeField(default=timezone.now)
    # What the case was before this decision, so that its author can undo it (issue 16).
    status_before = models.CharField(max_length=16, blank=True, default="", db_default="")
    # Set when the author undid the decision; the row stays for the audit trail and exports.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="decision_rationale_required"
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="propose_takedown")
                | (models.Q(legal_basis__isnull=False) & ~models.Q(category="")),
                name="decision_takedown_has_basis",
            ),
            # One decision per version of a case: the backstop against a double decision.
            models.UniqueConstraint(
                fields=["case", "case_version"], name="decision_once_per_version"
            ),
            # Target of the four-eyes composite foreign key from Approval (see migration).
            models.UniqueConstraint(fields=["id", "moderator"], name="decision_id_moderator_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="decision_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on case {self.case_id}"


class Approval(models.Model):
    class Verdict(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="approval")
    # A copy of decision.moderator, tied to it by a composite foreign key, so that the
    # four-eyes rule can be a check constraint on this row.
    decision_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(supervisor=models.F("decision_author")),
                name="approval_four_eyes",
            ),
            # Target of the fresh-eyes composite foreign key from Objection (see migration).
            models.UniqueConstraint(fields=["id", "supervisor"], name="approval_id_supervisor_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} decision {self.decision_id}"


class TakedownRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        TAKEN_DOWN = "taken_down", _("Taken down")
        REFUSED = "refused", _("Refused")
        NOT_FOUND = "not_found", _("Not found")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Warning(models.IntegerChoices):
        NONE = 0, _("None")
        FIRST = 1, _("First warning")
        SECOND = 2, _("Second warning")
        BLOCKING = 3, _("Blocking recommended")

    # Not yet confirmed by the operator: these can become overdue and climb the warning ladder.
    UNCONFIRMED = (Status.PENDING, Status.SENT, Status.ACKNOWLEDGED, Status.FAILED)
    # What the operator said in the end (a callback, or a refusal at delivery).
    RESOLVED = (Status.TAKEN_DOWN, Status.REFUSED, Status.NOT_FOUND)
    FINAL = (*RESOLVED, Status.CANCELLED)
    CANCELLABLE = (Status.PENDING, Status.FAILED)

    # The request id is also the Idempotency-Key the operator sees.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    approval = models.OneToOneField(Approval, on_delete=models.PROTECT, related_name="request")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="takedown_requests")
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ChatAccount, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=32, choices=Category.choices)
    legal_basis = models.CharField(max_length=300)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    summary = models.TextField()
    issued_at = models.DateTimeField()
    deadline = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # sends, the attempt's number
    # Failed attempts this round (TAKEDOWN_MAX_ATTEMPTS): not 429s, not attempts lost with a
    # worker. A supervisor's retry starts a new round.
    failures = models.PositiveIntegerField(default=0, db_default=0)
    throttled_since = models.DateTimeField(null=True, blank=True)  # first 429 of a streak
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    operator_reference = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    warning_level = models.PositiveSmallIntegerField(choices=Warning.choices, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="takedown_due_idx"),
            models.Index(fields=["platform", "status"], name="takedown_platform_status_idx"),
            models.Index(fields=["deadline"], name="takedown_deadline_idx"),
            models.Index(fields=["issued_at"], name="takedown_issued_idx"),
            # The public objection form finds a takedown by the reference the operator showed
            # the account's owner (issue 18).
            models.Index(
                fields=["platform", "operator_reference"],
                name="takedown_operator_ref_idx",
                condition=~models.Q(operator_reference=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Takedown {self.pk}"


class OperatorCall(models.Model):
    """One HTTP call to an operator with a request of an outbox (the delivery history):
    DeliveryAttempt for takedown requests, RestoreAttempt for restore requests."""

    # How each outcome (written by the delivery service) reads in the history.
    OUTCOME_LABELS = {
        "in_progress": _("in progress"),
        "acknowledged": _("acknowledged"),
        "duplicate": _("already received (409), acknowledged"),
        "throttled": _("throttled (429)"),
        "refused": _("refused"),
        "server_error": _("operator error (5xx)"),
        "timeout": _("timed out"),
        "connection_error": _("connection failed"),
        "lost": _("worker lost"),
        "redirected": _("redirected (not followed)"),
        "endpoint_refused": _("endpoint not allowed; nothing sent"),
        "no_endpoint": _("no endpoint configured; nothing sent"),
    }

    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def outcome_label(self) -> str:
        return str(self.OUTCOME_LABELS.get(self.outcome, self.outcome))


class DeliveryAttempt(OperatorCall):
    """One HTTP call to an operator with a takedown request."""

    request = models.ForeignKey(
        TakedownRequest, on_delete=models.PROTECT, related_name="deliveries"
    )

    class Meta:
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="delivery_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.request_id}"


def _objection_storage():
    return storages["evidence"]  # private, like evidence: never under a public URL


class Objection(models.Model):
    """An account owner's objection to a takedown (issue 18, docs/objections.md): forwarded
    by the operator or sent on the public form, decided by a supervisor who neither proposed
    nor approved the takedown. One objection per takedown request: a repeat joins it."""

    class Source(models.TextChoices):
        OPERATOR = "operator", _("Forwarded by the operator")
        PUBLIC = "public", _("Public objection form")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Awaiting decision")
        UPHELD = "upheld", _("Upheld: the takedown stands")
        GRANTED = "granted", _("Granted: the account is restored")

    receipt_code = models.CharField(max_length=16, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    takedown = models.OneToOneField(
        TakedownRequest, on_delete=models.PROTECT, related_name="objection"
    )
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ChatAccount, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="objections")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="+")
    # Copies of the decision's author and the approving supervisor, tied to them by composite
    # foreign keys (migration 0017), so that the fresh-eyes rule is a check constraint here.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The operator's own id of the objection (its idempotency key); blank from the form.
    operator_reference = models.CharField(max_length=100, blank=True, default="")
    payload_hash = models.CharField(max_length=64, blank=True, default="")
    statement = models.TextField()
    # Later statements of repeats that said something new: [{"at", "source", "text"}].
    further_statements = models.JSONField(default=list, blank=True)
    contact_name = models.CharField(max_length=200, blank=True, default="")
    contact_email = models.CharField(max_length=254, blank=True, default="")
    contact_phone = models.CharField(max_length=40, blank=True, default="")
    # When retention erased the contact details (README "Retention"); None while they are kept.
    contact_deleted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objections_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Fresh eyes: neither the proposer nor the approver decides the objection.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | (
                    ~models.Q(decided_by=models.F("proposed_by"))
                    & ~models.Q(decided_by=models.F("approved_by"))
                ),
                name="objection_fresh_eyes",
            ),
            # Decided means: by someone, at a time, with a reason; undecided means none of it.
            models.CheckConstraint(
                condition=(
                    models.Q(status="received", decided_by__isnull=True, decided_at__isnull=True)
                    | (
                        models.Q(
                            status__in=["upheld", "granted"],
                            decided_by__isnull=False,
                            decided_at__isnull=False,
                        )
                        & ~models.Q(reason="")
                    )
                ),
                name="objection_decided_fully",
            ),
            models.UniqueConstraint(
                fields=["platform", "operator_reference"],
                condition=~models.Q(operator_reference=""),
                name="objection_operator_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="objection_status_deadline_idx"),
            models.Index(fields=["received_at"], name="objection_received_idx"),
        ]

    def __str__(self) -> str:
        return f"Objection {self.receipt_code}"


class ObjectionAttachment(models.Model):
    """A picture sent with an objection: checked and re-encoded like evidence."""

    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(
        storage=_objection_storage, upload_to="objections/%Y/%m/%d/", max_length=300
    )
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    # When retention deleted the bytes (the row and its hash stay); None while they are kept.
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Attachment {self.pk} of objection {self.objection_id}"


class RestoreRequest(models.Model):
    """The outbox row of a granted objection ("normalisasi"), written in the decision's
    transaction and delivered exactly like a takedown request (docs/objections.md)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESTORED = "restored", _("Restored")
        REFUSED = "refused", _("Refused")
        NOT_FOUND = "not_found", _("Not found")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    RESOLVED = (Status.RESTORED, Status.REFUSED, Status.NOT_FOUND)
    FINAL = (*RESOLVED, Status.CANCELLED)
    CANCELLABLE = (Status.PENDING, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    objection = models.OneToOneField(
        Objection, on_delete=models.PROTECT, related_name="restore_request"
    )
    takedown = models.ForeignKey(TakedownRequest, on_delete=models.PROTECT, related_name="+")
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ChatAccount, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    issued_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    throttled_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    operator_reference = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="restore_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Restore {self.pk}"


class RestoreAttempt(OperatorCall):
    """One HTTP call to an operator with a restore request."""

    request = models.ForeignKey(RestoreRequest, on_delete=models.PROTECT, related_name="deliveries")

    class Meta:
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="restore_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of restore {self.request_id}"


class _NextAuditNumber(models.Func):
    """The next event number from the event sequence: lock-free, in the order of writing."""

    template = "nextval('saring_audit_event_number')"
    output_field = models.BigIntegerField()


class _CurrentTransactionId(models.Func):
    """The writing transaction's id (xid8 as bigint): the sequencer seals an event only once
    every transaction with a smaller id has ended (moderation/audit/services/log.py)."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


# The CHECK constraint that binds an audit event's columns to its canonical bytes: the bytes,
# read as JSON, must be exactly the columns (jsonb equality: the same keys and values). Written
# here once for the migration that adds it and for audit_verify, which checks that the
# constraint is still there, validated and unchanged.
EVENT_IS_ITS_BYTES = "audit_event_is_its_bytes"
EVENT_IS_ITS_BYTES_CHECK = """convert_from(canonical, 'UTF8')::jsonb = jsonb_build_object(
    'sequence', sequence,
    'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_kind', actor_kind,
    'actor_user_id', actor_user_id,
    'actor_label', actor_label,
    'action', action,
    'subject_type', subject_type,
    'subject_id', subject_id,
    'subject_label', subject_label,
    'data', data,
    'ip_address', ip_address,
    'prev_hash', prev_hash
)"""


class AuditEvent(models.Model):
    """Append-only; a leaf of the audit log's Merkle tree once sealed (DESIGN.md "The audit
    trail", moderation/audit/services/log.py). Writers insert without any lock: the number
    comes from a sequence and the transaction id from PostgreSQL."""

    class ActorKind(models.TextChoices):
        USER = "user", _("Staff user")
        ORGANISATION = "organisation", _("Source organisation")
        OPERATOR = "operator", _("Platform operator")
        PUBLIC = "public", _("Member of the public")
        SYSTEM = "system", _("System")

    sequence = models.BigIntegerField(unique=True, db_default=_NextAuditNumber())
    xid = models.BigIntegerField(db_default=_CurrentTransactionId(), editable=False)
    created_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    ip_address = models.CharField(max_length=45, blank=True)  # as the web server saw it
    # The hash chain this trail used before it became a Merkle tree: kept as written on the
    # events from then (they are the tree's first leaves, hashed with these two fields);
    # empty on later events.
    prev_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # What the leaf hashes: the event as canonical JSON (saring_verify.canonical_event). The
    # columns above are bound to it by the CHECK constraint EVENT_IS_ITS_BYTES (migration
    # 0009), so what every page shows is what was sealed, and verifying reads only this.
    canonical = models.BinaryField(editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["action", "created_at"], name="audit_action_time_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            models.Index(fields=["actor_user", "created_at"], name="audit_actor_time_idx"),
            models.Index(fields=["created_at"], name="audit_time_idx"),
            models.Index(fields=["xid", "sequence"], name="audit_xid_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"


class AuditLeaf(models.Model):
    """One event's place in the Merkle tree: leaf `index` (from 0), in sealing order."""

    index = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="leaf")
    hash = models.BinaryField()  # SHA-256(0x00 || the event's canonical bytes)

    def __str__(self) -> str:
        return f"leaf {self.index}"


class AuditNode(models.Model):
    """A complete subtree above the leaves: 2**level leaves from index << level. Kept so an
    inclusion or consistency proof reads O(log n) rows instead of hashing the tree."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditTreeHead(models.Model):
    """The tree after each sealing, append-only: its size, root, the right edge's complete
    subtrees (largest first) to append to, and how far the sequencer has read."""

    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField()
    frontier = models.BinaryField()  # the right edge's subtree hashes, 32 bytes each
    last_xid = models.BigIntegerField()
    last_sequence = models.BigIntegerField()
    sealed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"tree of {self.size}"


class AuditCheckpoint(models.Model):
    """A signed checkpoint (c2sp.org/tlog-checkpoint), as also written outside PostgreSQL and
    sent to the witness. The key that signed it is never in the database."""

    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField()
    signed_at = models.DateTimeField()
    note = models.TextField()  # the signed note, byte for byte
    witness = models.CharField(max_length=200, blank=True)  # what the witness answered

    def __str__(self) -> str:
        return f"checkpoint at {self.size}"


def _export_storage():
    return storages["exports"]


class Export(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"
        XLSX = "xlsx", "XLSX"
        DSA = "dsa", _("DSA statements of reasons (JSON)")

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting a supervisor's approval")
        REFUSED = "refused", _("Refused by a supervisor")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # An export with public reporters' contact details waits for a supervisor, not the one who
    # asked, to approve or refuse it (exports.export_contacts_decide).
    contacts_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    contacts_decided_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=20, default="decisions")
    filters = models.JSONField(default=dict)
    format = models.CharField(max_length=8, choices=Format.choices)
    include_contacts = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0)  # rows written so far
    total = models.PositiveIntegerField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(storage=_export_storage, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped while a worker writes it (config/jobguard.py); stale = the worker is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)  # the run that owns it (jobguard)

    class Meta:
        constraints = [
            # Contact details leave only with a second person's approval, whatever the code.
            models.CheckConstraint(
                condition=models.Q(include_contacts=False)
                | models.Q(status="awaiting")
                | (
                    models.Q(contacts_decided_by__isnull=False)
                    & ~models.Q(contacts_decided_by=models.F("requested_by"))
                ),
                name="export_contacts_decided_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.format})"


class BlurLevel(models.TextChoices):
    """How strongly an evidence picture is blurred until revealed (issue 16)."""

    NONE = "none", _("None")
    LIGHT = "light", _("Light")
    STRONG = "strong", _("Strong")


class StaffPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="saring_preference"
    )
    keep_evidence_blurred = models.BooleanField(
        _("keep evidence blurred"),
        default=False,
        help_text=_("Evidence stays blurred until each picture is revealed on its own."),
    )
    # The person's own evidence display; blank / null follow the organisation's defaults
    # (EVIDENCE_BLUR_DEFAULT, EVIDENCE_GRAYSCALE_DEFAULT). moderation.cases.wellbeing resolves.
    evidence_blur = models.CharField(
        _("evidence blur"), max_length=8, blank=True, choices=BlurLevel.choices
    )
    evidence_grayscale = models.BooleanField(_("evidence in grayscale"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evidence_blur__in=["", *BlurLevel.values]),
                name="staffpreference_evidence_blur_known",
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of user {self.user_id}"


# --- Dashboard summary (issue 8) -----------------------------------------------------------
# Per-day figures the supervisor dashboard reads instead of scanning a million reports. A
# Celery beat task rewrites the recent window (moderation/dashboard/services.py); whatever
# happened after its last run is counted live, so the figures are exact and fresh.


class DashboardDaily(models.Model):
    class Metric(models.TextChoices):
        REPORTS = "reports", _("Reports received")  # key: source kind
        DECISIONS = "decisions", _("Decisions")  # key: moderator id
        # Takedowns: key platform id; see moderation.takedowns.selectors.compliance_counts.
        TAKEDOWNS_ISSUED = "td_issued", _("Takedown requests issued")
        TAKEDOWNS_DONE = "td_done", _("Taken down")
        TAKEDOWNS_DUE_4H = "td_due_4h", _("Judged for 4 hours")
        TAKEDOWNS_4H = "td_4h", _("Taken down within 4 hours")
        TAKEDOWNS_DUE_24H = "td_due_24h", _("Judged for 24 hours")
        TAKEDOWNS_24H = "td_24h", _("Taken down within 24 hours")
        TAKEDOWNS_DUE = "td_due", _("Judged for the deadline")
        TAKEDOWNS_IN_TIME = "td_in_time", _("Taken down before the deadline")

    day = models.DateField()  # a WIB (Asia/Jakarta) calendar day
    metric = models.CharField(max_length=16, choices=Metric.choices)
    key = models.CharField(max_length=64)
    value = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "day", "key"], name="dashboard_daily_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.key}={self.value}"


class DashboardRefresh(models.Model):
    """When the summary was last rewritten, and the figures that cannot be summed per day
    as they were then: {"medians": {"30": {…}, "90": {…}}, "open_cases": [category rows]}."""

    refreshed_at = models.DateTimeField()
    window_start = models.DateField()
    snapshot = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Dashboard refresh at {self.refreshed_at}"


# The audit log's tables: triggers refuse UPDATE, DELETE and TRUNCATE on them, and the runtime
# database role may only INSERT and SELECT them (config/dbroles.py).
APPEND_ONLY_MODELS = (AuditEvent, AuditLeaf, AuditNode, AuditTreeHead, AuditCheckpoint)
