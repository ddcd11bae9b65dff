"""How the audit pages write an event's parts."""

from __future__ import annotations

import json
from typing import Any

from django import template

from moderation.audit import action_label as _action_label

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """An event's data as JSON (what the trail stores and exports), never Python's repr."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def action_label(action: str) -> str:
    return _action_label(action)
