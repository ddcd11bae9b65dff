"""Text that reporters and account holders wrote, shown so that it cannot deceive (issue 16).

Unicode's direction controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) reorder
what is shown: "\u202eexe.gnp" reads as "png.exe". `bidi_flag` isolates a value in <bdi>, so
that it cannot reorder the page around it, replaces each control with a visible marker and
puts a warning badge after a value that had any. Every identifier, display name and report
text on the case page and the account page goes through it.
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

# Each direction control and the abbreviation its marker shows.
DIRECTION_CONTROLS = {
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u061c": "ALM",
}


CONTROLS_RE = re.compile("[" + "".join(DIRECTION_CONTROLS) + "]")


def has_direction_controls(text: str) -> bool:
    return CONTROLS_RE.search(text) is not None


def _marker(char: str) -> str:
    return f"\u27e8{DIRECTION_CONTROLS[char]}\u27e9"  # ⟨RLO⟩


@register.filter(is_safe=True, needs_autoescape=True)
def bidi_flag(value: Any, mode: str = "", autoescape: bool = True) -> str:
    """`value` isolated in <bdi>, each direction control replaced by a visible marker
    ("⟨RLO⟩", its code point in the title) and, when it had any, followed by a warning badge.
    `bidi_flag:"text"` gives plain text (the markers, no HTML) for a <title> or an attribute."""
    if value is None or value == "":
        return ""
    if mode == "text":
        return CONTROLS_RE.sub(lambda m: _marker(m.group()), str(value))
    if autoescape and not isinstance(value, SafeData):
        value = escape(str(value))
    text = str(value)
    if not has_direction_controls(text):
        return format_html("<bdi>{}</bdi>", mark_safe(text))  # noqa: S308 - escaped above
    marked = CONTROLS_RE.sub(
        lambda m: format_html(
            '<span class="bidi-mark" title="U+{}">{}</span>',
            f"{ord(m.group()):04X}",
            _marker(m.group()),
        ),
        text,
    )
    return format_html(
        '<bdi class="bidi-flagged">{}</bdi> <span class="badge bidi-warning" role="note">{}</span>',
        mark_safe(marked),  # noqa: S308 - the text was escaped above, the markers by format_html
        _("contains direction-control characters"),
    )
