"""The supervisor dashboard: charts (server-side SVG), their numbers as tables and as CSV."""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.roles import Role, role_required
from config.spreadsheet import cell
from moderation.dashboard import charts
from moderation.dashboard.selectors import AGE_BUCKETS, WINDOWS, Dashboard, dashboard_figures
from moderation.objections import MIN_DECISIONS
from moderation.templatetags.saring_dashboard import percent
from reports.models import SourceKind
from reports.selectors import graphic_seen_today_totals

AGE_LABELS = {
    "lt1d": gettext_lazy("under 1 day"),
    "d1_3": gettext_lazy("1–3 days"),
    "d3_7": gettext_lazy("3–7 days"),
    "gt7d": gettext_lazy("over 7 days"),
}
# The charts in the two-column cards are drawn narrower, so their text stays readable.
HALF_WIDTH = {"width": 560, "label_width": 175}
CHARTS = ("reports", "open-cases", "sla", "overdue", "throughput", "objections")


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", WINDOWS[0]))
    except ValueError:
        return WINDOWS[0]
    return days if days in WINDOWS else WINDOWS[0]


def _percent(value: float | None) -> str:
    return percent(value)


def _reports_chart(figures: Dashboard):
    return charts.column_chart(
        chart_id="chart-reports",
        title=_("Reports received per day, by source"),
        desc=_("Stacked columns, one per WIB day from %(start)s to %(end)s; %(total)s reports.")
        % {
            "start": date_format(figures.start),
            "end": date_format(figures.today),
            "total": sum(figures.report_totals.values()),
        },
        labels=[date_format(day, "j M") for day in figures.day_list],
        series=[
            charts.Series(label, figures.reports[value]) for value, label in SourceKind.choices
        ],
    )


def _open_cases_chart(figures: Dashboard):
    rows = figures.open_cases
    return charts.bar_chart(
        chart_id="chart-open-cases",
        title=_("Open cases by category and age"),
        desc=_("Stacked bars, one per category, split by time since the first report."),
        labels=[str(row["label"]) for row in rows],
        series=[
            charts.Series(str(AGE_LABELS[key]), [row[key] for row in rows])
            for key, _low, _high in AGE_BUCKETS
        ],
        **HALF_WIDTH,
    )


def _sla_chart(figures: Dashboard):
    rows = figures.sla
    return charts.bar_chart(
        chart_id="chart-sla",
        title=_("Takedowns completed within 4 and 24 hours, by platform"),
        desc=_(
            "Grouped bars: of the requests issued in the period that can be judged, the share "
            "the platform took down within 4 hours, within 24 hours and before the deadline."
        ),
        labels=[row.name for row in rows],
        series=[
            charts.Series(_("within 4 h"), [row.share_4h or 0 for row in rows]),
            charts.Series(_("within 24 h"), [row.share_24h or 0 for row in rows]),
            charts.Series(_("before the deadline"), [row.share_in_time or 0 for row in rows]),
        ],
        stacked=False,
        maximum=100,
        value_format=_percent,
        **HALF_WIDTH,
    )


def _throughput_chart(figures: Dashboard):
    rows = figures.throughput
    return charts.bar_chart(
        chart_id="chart-throughput",
        title=_("Decisions per person"),
        desc=_("Bars, one per person: decisions recorded in the last %(days)s days.")
        % {"days": figures.days},
        labels=[row["moderator"].get_username() for row in rows],
        series=[charts.Series(_("Decisions"), [row["total"] for row in rows])],
        **HALF_WIDTH,
    )


@role_required(Role.SUPERVISOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_figures(days=_days(request))
    return render(
        request,
        "moderation/dashboard/dashboard.html",
        {
            "figures": figures,
            "windows": WINDOWS,
            "age_buckets": [(key, AGE_LABELS[key]) for key, _low, _high in AGE_BUCKETS],
            "source_kinds": SourceKind.choices,
            "report_rows": [
                (day, [figures.reports[kind][i] for kind in SourceKind.values])
                for i, day in enumerate(figures.day_list)
            ],
            "report_totals": [figures.report_totals[kind] for kind in SourceKind.values],
            "chart_reports": _reports_chart(figures),
            "chart_open_cases": _open_cases_chart(figures),
            "chart_sla": _sla_chart(figures),
            "chart_throughput": _throughput_chart(figures),
            # Reviewer wellbeing (issue 16): graphic pictures seen today, a total per person.
            "wellbeing": graphic_seen_today_totals(),
            "break_threshold": settings.GRAPHIC_DAILY_BREAK_THRESHOLD,
            "min_decisions": MIN_DECISIONS,
        },
    )


def _csv_rows(chart: str, figures: Dashboard) -> list[list]:
    if chart == "reports":
        rows = [["day", *SourceKind.values, "total"]]
        for i, day in enumerate(figures.day_list):
            values = [figures.reports[kind][i] for kind in SourceKind.values]
            rows.append([day.isoformat(), *values, sum(values)])
        return rows
    if chart == "open-cases":
        keys = [key for key, _low, _high in AGE_BUCKETS]
        rows = [["category", *keys, "total"]]
        rows += [
            [row["category"], *(row[k] for k in keys), row["total"]] for row in figures.open_cases
        ]
        return rows
    if chart == "sla":
        rows = [
            [
                "platform",
                "issued",
                "taken_down",
                "judged_4h",
                "within_4h",
                "share_4h_percent",
                "judged_24h",
                "within_24h",
                "share_24h_percent",
                "judged_deadline",
                "before_deadline",
                "share_before_deadline_percent",
                "restored",
            ]
        ]
        for row, restored in figures.sla_rows:
            rows.append(
                [
                    row.slug,
                    row.requests,
                    row.taken_down,
                    row.due_4h,
                    row.within_4h,
                    row.share_4h,
                    row.due_24h,
                    row.within_24h,
                    row.share_24h,
                    row.due,
                    row.in_time,
                    row.share_in_time,
                    restored,
                ]
            )
        return rows
    if chart == "objections":
        # Shares of fewer than MIN_DECISIONS decisions are left empty, as on the page.
        rows = [["by", "key", "decided", "granted", "granted_share_percent"]]
        for by, shares in (
            ("category", figures.objections.by_category),
            ("proposer", figures.objections.by_proposer),
        ):
            rows += [[by, row.key, row.decided, row.granted, row.share] for row in shares]
        return rows
    if chart == "overdue":
        rows = [["platform", "overdue_now"]]
        rows += [[row["platform"].slug, row["overdue"]] for row in figures.overdue_by_platform]
        return rows
    rows = [["moderator", "total", "per_day_average", *(d.isoformat() for d in figures.day_list)]]
    for row in figures.throughput:
        rows.append(
            [row["moderator"].get_username(), row["total"], row["average"], *row["per_day"]]
        )
    return rows


@role_required(Role.SUPERVISOR)
def dashboard_csv(request: HttpRequest, chart: str) -> HttpResponse:
    if chart not in CHARTS:
        raise Http404
    days = _days(request)
    figures = dashboard_figures(days=days, detailed=chart == "throughput")
    stamp = timezone.localtime(figures.now).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="saring-{chart}-{days}d-{stamp}.csv"'
    csv.writer(response).writerows([cell(v) for v in row] for row in _csv_rows(chart, figures))
    return response


urlpatterns = [
    path("supervision/", dashboard, name="supervisor_home"),
    path("supervision/<slug:chart>.csv", dashboard_csv, name="dashboard_csv"),
]
