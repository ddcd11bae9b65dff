"""Objections and restoration (issue 18, docs/objections.md): an account owner objects to a
takedown, through the operator's API or the public form; a supervisor who neither proposed
nor approved the takedown decides; a granted objection is restored through the takedowns'
outbox (restore requests, delivered and confirmed like takedown requests).

The public face, for the dashboard and the pages that read everything: the services and
the dashboard's figures below, and the navigation's count of objections awaiting a decision.
The views (staff pages, the public form, the operator API) are wired by moderation.urls.
"""

from moderation.objections.figures import (
    MIN_DECISIONS,
    GrantedShare,
    ObjectionFigures,
    objection_counts,
    objection_figures,
)
from moderation.objections.selectors import AwaitingCounts, objections_awaiting_counts
from moderation.objections.services import (
    MAX_ATTACHMENTS,
    MAX_STATEMENT,
    OBJECTIONABLE,
    ObjectionInput,
    ObjectionReceived,
    ObjectionRefused,
    objection_decide,
    objection_receive,
    objection_refusal,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_STATEMENT",
    "MIN_DECISIONS",
    "OBJECTIONABLE",
    "AwaitingCounts",
    "GrantedShare",
    "ObjectionFigures",
    "ObjectionInput",
    "ObjectionReceived",
    "ObjectionRefused",
    "objection_counts",
    "objection_decide",
    "objection_figures",
    "objection_receive",
    "objection_refusal",
    "objections_awaiting_counts",
]
