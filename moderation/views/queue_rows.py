"""The queue's table rows, rendered in Python.

The queue is the page moderators reload all day (every filter change, every page); with
fifty rows, per-row template work (lookups, filters, translations, date formatting) was most
of its time. Here each label is translated once per page and each row is one format_html.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from accounts.categories import Category


def queue_rows(cases, *, case_path: str, selectable: bool) -> SafeString:
    categories = {value: str(label) for value, label in Category.choices}
    urgent = format_html(' <span class="badge urgent">{}</span>', _("urgent"))
    sla_badges = {
        "breached": format_html(' <span class="badge urgent">{}</span>', _("overdue")),
        "due": format_html(' <span class="badge due">{}</span>', _("due soon")),
        "ok": "",
    }
    select_label = _("Select case %(id)s")

    def cells(case):
        account = case.account
        name = format_html(' <span class="muted">({})</span>', account.display_name)
        checkbox = ""
        if selectable:
            checkbox = format_html(
                "<td>{}</td>",
                format_html(
                    '<input type="checkbox" name="selected" value="{}:{}" aria-label="{}">',
                    case.pk,
                    case.version,
                    select_label % {"id": case.pk},
                )
                if case.status == "open"
                else "",
            )
        return (
            case_path,
            case.pk,
            case.sla,
            checkbox,
            case_path,
            case.pk,
            case.pk,
            account.platform.slug,
            account.identifier,
            name if account.display_name else "",
            categories.get(case.category, case.category),
            urgent if case.urgent else "",
            case.source_kinds,
            case.report_count,
            f"{case.priority:.1f}",
            localtime(case.opened_at).strftime("%Y-%m-%d %H:%M"),
            sla_badges.get(case.sla, ""),
            case.claimed_by.get_username() if case.claimed_by_id else "—",
        )

    return format_html_join(
        "\n",
        '<tr data-href="{}{}/" class="sla-{}">{}<td><a href="{}{}/">#{}</a></td>'
        "<td>{} · {}{}</td><td>{}{}</td><td>{}</td>"
        '<td class="num">{}</td><td class="num">{}</td><td>{}{}</td><td>{}</td></tr>',
        (cells(case) for case in cases),
    )
