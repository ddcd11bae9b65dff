"""The queue's table rows, rendered in Python.

The queue is the page moderators reload all day (every filter change, every page); with
fifty rows, per-row template work (lookups, filters, translations, date formatting) was most
of its time. Here each label is translated once per page and each row is one string, with
every value that comes from outside (identifiers, names, usernames, report text) escaped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from accounts.categories import Category
from moderation.access import can_see_content
from moderation.cases.selectors import QueuePage, review_clock
from reports.models import SourceKind


class ShortDuration:
    """ "3 h", "2 d", "15 min" in the active language, the templates translated once per page."""

    def __init__(self) -> None:
        self.minutes = _("%(n)d min")
        self.hours = _("%(n)d h")
        self.days = _("%(n)d d")

    def __call__(self, span: timedelta) -> str:
        minutes = max(int(span.total_seconds() // 60), 0)
        if minutes < 60:
            return self.minutes % {"n": minutes}
        if minutes < 48 * 60:
            return self.hours % {"n": minutes // 60}
        return self.days % {"n": minutes // (24 * 60)}


def queue_rows(page: QueuePage, *, case_path: str, selectable: bool, viewer: Any) -> SafeString:
    """The rows; a case in a category the viewer may not open (`can_see_content`) shows
    that it exists, its account, category, sources and clock, never its text, the account's
    display name or how much evidence it holds."""
    categories = {value: escape(label) for value, label in Category.choices}
    sources = {value: str(label) for value, label in SourceKind.choices}
    urgent = f' <span class="badge urgent">{escape(_("urgent"))}</span>'
    short = ShortDuration()
    due_in, overdue = _("due in %(time)s"), _("overdue by %(late)s")
    evidence_label = _("%(n)d pieces of evidence")
    select_label = _("Select case %(id)s")
    restricted = (
        f'<td class="snippet restricted"><span class="badge">{escape(_("Restricted"))}</span> '
        f'<span class="muted">{escape(_("specialists only"))}</span></td>'
    )
    may_see = {value: can_see_content(viewer, value) for value, _label in Category.choices}
    path = escape(case_path)
    returning = _ReturningBadge(path)
    html = []
    for case in page.cases:
        account = case.account
        clock = review_clock(case.opened_at, now=page.now)
        visible = may_see.get(case.category, True)
        href = f"{path}{case.pk}/"
        checkbox = ""
        if selectable:
            box = ""
            if case.status == "open" and visible:
                label = escape(select_label % {"id": case.pk})
                box = (
                    f'<input type="checkbox" name="selected" value="{case.pk}:{case.version}"'
                    f' aria-label="{label}">'
                )
            checkbox = f"<td>{box}</td>"
        name = (
            f' <span class="muted"><bdi>({escape(account.display_name)})</bdi></span>'
            if account.display_name and visible
            else ""
        )
        holder = escape(case.claimed_by.get_username()) if case.claimed_by_id else "—"
        kinds = ", ".join(sources.get(kind, kind) for kind in case.source_kinds.split(",") if kind)
        snippet = " ".join(case.snippet.split())
        if clock.level:
            target = escape(overdue % {"late": short(-clock.left)})
        else:
            target = escape(due_in % {"time": short(clock.left)})
        evidence = (
            f'<span title="{escape(evidence_label % {"n": case.evidence_count})}">'
            f"{case.evidence_count}</span>"
            if case.evidence_count
            else '<span class="muted">0</span>'
        )
        text = (
            f'<td class="snippet" title="{escape(snippet)}"><bdi>{escape(snippet) or "—"}'
            f"</bdi></td>"
            if visible
            else restricted
        )
        if not visible:
            evidence = '<span class="muted">—</span>'

        html.append(
            f'<tr data-href="{href}" class="sla-{clock.state} late-{clock.level}">{checkbox}'
            f'<td><a href="{href}">#{case.pk}</a></td>'
            f'<td class="account"><bdi>{escape(account.platform.slug)} · '
            f"{escape(account.identifier)}</bdi>{name}{returning(case)}</td>"
            f"{text}"
            f"<td>{categories.get(case.category, escape(case.category))}"
            f"{urgent if case.urgent else ''}</td>"
            f"<td>{escape(kinds)}</td>"
            f'<td class="num">{case.report_count}</td>'
            f'<td class="num">{evidence}</td>'
            f'<td class="num">{number_format(case.priority, 1)}</td>'
            f"{_age_cell(case.opened_at, page.now, short)}"
            f'<td class="target">{target}</td>'
            f"<td>{holder}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 - every outside value escaped above


class _ReturningBadge:
    """ "Returning" (issue 17): the account matches an account already taken down. The badge
    links to the old takedown's case and says on hover what matched and when; it shows no
    content of either case, so restricted rows carry it too."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.label = escape(_("Returning"))
        self.explained = {
            "phone": _("Same phone number as %(account)s, taken down on %(date)s"),
            "picture": _("Shares a picture with %(account)s, taken down on %(date)s"),
            "profile_url": _("Same profile address as %(account)s, taken down on %(date)s"),
        }
        self.fallback = _("Matches %(account)s, taken down on %(date)s")

    def __call__(self, case: Any) -> str:
        request = case.returning_from
        if request is None:
            return ""
        when = localtime(request.resolved_at or request.updated_at)
        title = self.explained.get(case.returning_via, self.fallback) % {
            "account": f"{request.platform.slug} · {request.account.identifier}",
            "date": date_format(when, "SHORT_DATE_FORMAT"),
        }
        return (
            f' <a class="badge returning" href="{self.path}{request.case_id}/"'
            f' title="{escape(title)}">{self.label}</a>'
        )


def _age_cell(opened_at: datetime, now: datetime, short: ShortDuration) -> str:
    """The age as "3 h", the moment itself (WIB, the language's format) on hover."""
    opened = localtime(opened_at)
    return (
        f'<td class="age"><time datetime="{opened.isoformat()}"'
        f' title="{escape(date_format(opened, "SHORT_DATETIME_FORMAT"))}">'
        f"{escape(short(now - opened_at))}</time></td>"
    )
