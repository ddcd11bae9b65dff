"""The queue's table rows, rendered in Python.

The queue is the page moderators reload all day (every filter change, every page); with
fifty rows, per-row template work (lookups, filters, translations, date formatting) was most
of its time. Here each label is translated once per page and each row is one string, with
every value that comes from outside (identifiers, names, usernames) escaped.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from accounts.categories import Category
from moderation.cases.selectors import QueuePage, sla_status


def queue_rows(page: QueuePage, *, case_path: str, selectable: bool) -> SafeString:
    categories = {value: escape(label) for value, label in Category.choices}
    urgent = f' <span class="badge urgent">{escape(_("urgent"))}</span>'
    sla_badges = {
        "breached": f' <span class="badge urgent">{escape(_("overdue"))}</span>',
        "due": f' <span class="badge due">{escape(_("due soon"))}</span>',
    }
    select_label = _("Select case %(id)s")
    path = escape(case_path)
    html = []
    for case in page.cases:
        account = case.account
        sla = sla_status(case.opened_at, now=page.now)
        href = f"{path}{case.pk}/"
        checkbox = ""
        if selectable:
            box = ""
            if case.status == "open":
                label = escape(select_label % {"id": case.pk})
                box = (
                    f'<input type="checkbox" name="selected" value="{case.pk}:{case.version}"'
                    f' aria-label="{label}">'
                )
            checkbox = f"<td>{box}</td>"
        name = (
            f' <span class="muted">({escape(account.display_name)})</span>'
            if account.display_name
            else ""
        )
        holder = escape(case.claimed_by.get_username()) if case.claimed_by_id else "—"
        html.append(
            f'<tr data-href="{href}" class="sla-{sla}">{checkbox}'
            f'<td><a href="{href}">#{case.pk}</a></td>'
            f"<td>{escape(account.platform.slug)} · {escape(account.identifier)}{name}</td>"
            f"<td>{categories.get(case.category, escape(case.category))}"
            f"{urgent if case.urgent else ''}</td>"
            f"<td>{escape(case.source_kinds)}</td>"
            f'<td class="num">{case.report_count}</td>'
            f'<td class="num">{case.priority:.1f}</td>'
            f"<td>{localtime(case.opened_at):%Y-%m-%d %H:%M}{sla_badges.get(sla, '')}</td>"
            f"<td>{holder}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 - every outside value escaped above
