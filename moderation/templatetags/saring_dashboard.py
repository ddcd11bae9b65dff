from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """A span of time as people say it: "3 h 12 min", "2 d 4 h", "45 min"."""
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


@register.filter
def percent(value: float | None) -> str:
    """A share with one decimal as the page's language writes it: "52.7 %" / "52,7 %"."""
    return "–" if value is None else f"{number_format(value, 1)} %"
