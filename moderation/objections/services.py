"""Objections (issue 18): received from the operator or the public form, decided by fresh eyes.

- One objection per takedown request. A repeat (the same operator reference, another
  reference, or the public form again) is recognised and answered with the objection on
  file; a statement it adds is kept with it, so nothing sent is lost.
- Decided by a supervisor who neither proposed nor approved the takedown: refused here with a
  reason, and by the database (objection_fresh_eyes, over composite foreign keys).
- Granted: the restore request is written in the same transaction (the takedowns' outbox).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.roles import Role, has_role
from moderation import takedowns
from moderation.audit import Actor, audit_record
from moderation.models import Objection, ObjectionAttachment, TakedownRequest
from reports.access import can_see_content
from reports.services import receipt_code_new
from reports.services.evidence import CheckedImage

MAX_STATEMENT = 10_000
MAX_REASON = 5_000
MAX_ATTACHMENTS = 5
# A takedown the operator carried out, or said it received: what an owner can object to.
OBJECTIONABLE = (TakedownRequest.Status.ACKNOWLEDGED, TakedownRequest.Status.TAKEN_DOWN)


class ObjectionRefused(Exception):
    """The objection cannot be taken or decided; the message says why, for a person.
    `code` is the machine word the operator API answers with."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ObjectionInput:
    takedown_id: UUID
    source: str  # Objection.Source
    statement: str
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    attachments: list[CheckedImage] = field(default_factory=list)
    operator_reference: str = ""
    payload_hash: str = ""  # the operator's body, less nothing: a repeat must match it


@dataclass(frozen=True)
class ObjectionReceived:
    objection: Objection
    created: bool
    # A repeat whose statement or pictures were new, and are now kept with the objection.
    added: bool = False


def _attachments_store(objection: Objection, images: list[CheckedImage]) -> list[str]:
    stored = []
    for image in images:
        digest = hashlib.sha256(image.content).hexdigest()
        attachment = ObjectionAttachment(
            objection=objection,
            original_name=image.original_name,
            content_type=image.content_type,
            size=len(image.content),
            sha256=digest,
        )
        attachment.file.save(
            f"{digest[:32]}{image.extension}", ContentFile(image.content), save=False
        )
        attachment.save()
        stored.append(digest)
    return stored


def objection_receive(
    *, item: ObjectionInput, actor: Actor, ip_address: str | None = None
) -> ObjectionReceived:
    """Take an objection, or recognise a repeat. Raises ObjectionRefused (code
    `reference_reused`, `not_taken_down` or `unknown_takedown`)."""
    statement = item.statement.strip()[:MAX_STATEMENT]
    with transaction.atomic():
        # The takedown row's lock serialises objections to one takedown: a repeat arriving
        # at the same moment waits and then finds the first.
        takedown = (
            TakedownRequest.objects.select_for_update(of=("self",))
            .select_related("approval__decision", "platform")
            .filter(pk=item.takedown_id)
            .first()
        )
        if takedown is None:
            raise ObjectionRefused(_("There is no such takedown."), "unknown_takedown")
        if item.operator_reference:
            known = Objection.objects.filter(
                platform_id=takedown.platform_id, operator_reference=item.operator_reference
            ).first()
            if known is not None:
                if known.payload_hash != item.payload_hash or known.takedown_id != takedown.pk:
                    raise ObjectionRefused(
                        _("This objection reference was already used for a different objection."),
                        "reference_reused",
                    )
                return ObjectionReceived(known, created=False)
        existing = Objection.objects.select_for_update().filter(takedown=takedown).first()
        if existing is not None:
            return _repeat(existing, item, statement, actor, ip_address)
        if takedown.status not in OBJECTIONABLE:
            raise ObjectionRefused(
                _(
                    "This takedown was not carried out (it is %(status)s), so there is "
                    "nothing to object to."
                )
                % {"status": takedown.get_status_display().lower()},
                "not_taken_down",
            )
        approval = takedown.approval
        now = timezone.now()
        objection = Objection.objects.create(
            receipt_code=receipt_code_new("KB"),
            source=item.source,
            takedown=takedown,
            platform_id=takedown.platform_id,
            account_id=takedown.account_id,
            case_id=takedown.case_id,
            decision_id=approval.decision_id,
            approval=approval,
            proposed_by_id=approval.decision_author_id,
            approved_by_id=approval.supervisor_id,
            operator_reference=item.operator_reference,
            payload_hash=item.payload_hash,
            statement=statement,
            contact_name=item.contact_name.strip()[:200],
            contact_email=item.contact_email.strip()[:254],
            contact_phone=item.contact_phone.strip()[:40],
            received_at=now,
            deadline=now + timedelta(days=settings.OBJECTION_DECIDE_DAYS),
        )
        pictures = _attachments_store(objection, item.attachments)
        audit_record(
            actor=actor,
            action="objection.received",
            subject=objection,
            subject_label=f"{objection.receipt_code} against takedown {takedown.pk}",
            data={
                "after": {
                    "status": objection.status,
                    "source": objection.source,
                    "takedown": str(takedown.pk),
                    "operator_reference": objection.operator_reference,
                    "deadline": objection.deadline.isoformat(),
                    "attachments": pictures,
                    "contact_given": bool(
                        objection.contact_name or objection.contact_email or objection.contact_phone
                    ),
                }
            },
            ip_address=ip_address,
        )
    return ObjectionReceived(objection, created=True)


def _repeat(
    objection: Objection,
    item: ObjectionInput,
    statement: str,
    actor: Actor,
    ip_address: str | None,
) -> ObjectionReceived:
    """Another objection to a takedown that has one: keep what it adds, answer with the first."""
    said = {objection.statement, *(entry.get("text") for entry in objection.further_statements)}
    new_text = statement and statement not in said
    changed: list[str] = []
    if new_text:
        objection.further_statements = [
            *objection.further_statements,
            {"at": timezone.now().isoformat(), "source": item.source, "text": statement},
        ]
        changed.append("further_statements")
    if item.operator_reference and not objection.operator_reference:
        objection.operator_reference = item.operator_reference
        objection.payload_hash = item.payload_hash
        changed += ["operator_reference", "payload_hash"]
    for name in ("contact_name", "contact_email", "contact_phone"):
        given = getattr(item, name).strip()
        if given and not getattr(objection, name):
            setattr(objection, name, given[: Objection._meta.get_field(name).max_length])
            changed.append(name)
    known = set(objection.attachments.values_list("sha256", flat=True))
    fresh = [
        image
        for image in item.attachments
        if hashlib.sha256(image.content).hexdigest() not in known
    ]
    pictures = _attachments_store(objection, fresh)
    if changed:
        objection.save(update_fields=[*changed, "updated_at"])
    added = bool(changed or pictures)
    audit_record(
        actor=actor,
        action="objection.repeated",
        subject=objection,
        subject_label=objection.receipt_code,
        data={
            "source": item.source,
            "operator_reference": item.operator_reference,
            "added_statement": bool(new_text),
            "added_attachments": pictures,
            "added_fields": [name for name in changed if name != "further_statements"],
        },
        ip_address=ip_address,
    )
    return ObjectionReceived(objection, created=False, added=added)


def objection_refusal(*, objection: Objection, user: User) -> str:
    """Why `user` may not decide this objection, or "" if they may. The one rule, for the
    service and the page (which hides the form and says why)."""
    if not has_role(user, Role.SUPERVISOR):
        return _("Only supervisors decide objections.")
    if objection.status != Objection.Status.RECEIVED:
        return _("This objection is already decided.")
    if not can_see_content(user, objection.takedown.category):
        return _(
            "This takedown is in a restricted category: a supervisor in the Specialist role, "
            "who may see its evidence, decides the objection."
        )
    if user.pk == objection.proposed_by_id:
        return _(
            "You proposed this takedown: another supervisor, who neither proposed nor approved "
            "it, decides the objection."
        )
    if user.pk == objection.approved_by_id:
        return _(
            "You approved this takedown: another supervisor, who neither proposed nor approved "
            "it, decides the objection."
        )
    return ""


def objection_decide(
    *,
    objection_id: int,
    supervisor: User,
    outcome: str,
    reason: str,
    ip_address: str | None = None,
) -> Objection:
    """Uphold or grant. Granting writes the restore request in this same transaction."""
    if outcome not in (Objection.Status.UPHELD, Objection.Status.GRANTED):
        raise ObjectionRefused(_("Choose whether the objection is upheld or granted."))
    reason = reason.strip()
    if not reason:
        raise ObjectionRefused(
            _("Give the reason: the owner and the operator receive it with the outcome.")
        )
    if len(reason) > MAX_REASON:
        raise ObjectionRefused(
            _("The reason is too long: at most %(count)d characters.") % {"count": MAX_REASON}
        )
    actor = Actor.staff(supervisor)
    try:
        with transaction.atomic():
            objection = (
                Objection.objects.select_for_update(of=("self",))
                .select_related("takedown")
                .filter(pk=objection_id)
                .first()
            )
            if objection is None:
                raise ObjectionRefused(_("There is no such objection."))
            refusal = objection_refusal(objection=objection, user=supervisor)
            if refusal:
                raise ObjectionRefused(refusal)
            now = timezone.now()
            objection.status = outcome
            objection.decided_by = supervisor
            objection.decided_at = now
            objection.reason = reason
            objection.save(
                update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"]
            )
            audit_record(
                actor=actor,
                action=f"objection.{outcome}",
                subject=objection,
                subject_label=objection.receipt_code,
                data={
                    "reason": reason,
                    "in_time": now <= objection.deadline,
                    "takedown": str(objection.takedown_id),
                    "before": {"status": Objection.Status.RECEIVED},
                    "after": {"status": outcome},
                },
                ip_address=ip_address,
            )
            if outcome == Objection.Status.GRANTED:
                takedowns.restore_request_create(
                    objection=objection, actor=actor, ip_address=ip_address
                )
    except IntegrityError as exc:  # the database's own fresh-eyes check, the last line
        raise ObjectionRefused(
            _("The database refused this decision: %(error)s") % {"error": str(exc)[:200]}
        ) from None
    return objection
