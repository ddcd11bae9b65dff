"""Shared pieces of the objection tests: a takedown the operator carried out, and an
objection against it, made through the real services."""

from __future__ import annotations

from moderation.audit import Actor
from moderation.models import Objection, TakedownRequest
from moderation.objections import ObjectionInput, objection_receive
from moderation.takedowns import services as takedowns
from tests.support.takedowns import proposal


def carried_out(
    *, moderator, supervisor, platform, category: str = "prostitution"
) -> TakedownRequest:
    """A takedown proposed by `moderator`, approved by `supervisor`, and confirmed taken down
    by the operator (the callback's service, as the API calls it)."""
    decision = proposal(moderator=moderator, platform=platform, category=category)
    request = takedowns.proposal_approve(decision_id=decision.pk, supervisor=supervisor)
    TakedownRequest.objects.filter(pk=request.pk).update(status=TakedownRequest.Status.TAKEN_DOWN)
    request.refresh_from_db()
    return request


def objected(
    takedown: TakedownRequest, *, statement: str = "My shop sells batik only.", reference: str = ""
) -> Objection:
    source = Objection.Source.OPERATOR if reference else Objection.Source.PUBLIC
    received = objection_receive(
        item=ObjectionInput(
            takedown_id=takedown.pk,
            source=source,
            statement=statement,
            operator_reference=reference,
            payload_hash=f"hash-of-{reference}" if reference else "",
        ),
        actor=Actor.operator(takedown.platform) if reference else Actor.public(),
    )
    return received.objection
