"""Charts drawn on the server as inline SVG: no JavaScript, nothing loaded from elsewhere.

Every series has a colour from a palette that colour-blind people can tell apart *and* a fill
pattern (solid, stripes, dots, cross-hatch), so the chart still reads in greyscale or print.
Bars carry their numbers as text where there is room, and a <title> (a tooltip and what a
screen reader announces) everywhere; the page puts the same numbers in a table beside it.
Only SVG presentation attributes are used, never style="…": the Content-Security-Policy
forbids inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito's palette, dark enough for white pattern strokes and black value labels beside.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999"]
INK = "#1b2330"
MUTED = "#5b6574"
GRID = "#d9dee6"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _fmt_int(value: float) -> str:
    return f"{int(round(value)):,}".replace(",", "\u202f")


def _pattern(chart_id: str, index: int) -> str:
    """The fill of series `index`: its colour plus a texture that does not depend on colour."""
    colour = COLOURS[index % len(COLOURS)]
    pid = f"{chart_id}-p{index}"
    kind = index % 4
    if kind == 0:
        marks = ""
    elif kind == 1:
        marks = '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" stroke-width="1.6"/>'
    elif kind == 2:
        marks = '<circle cx="4" cy="4" r="1.6" fill="#fff"/>'
    else:
        marks = '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#fff" stroke-width="1.2"/>'
    return (
        f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{colour}"/>{marks}</pattern>'
    )


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _ticks(maximum: float, *, most: int = 5) -> list[float]:
    """Round gridline values from 0 up to at least `maximum`: a step of 1, 2 or 5 times a
    power of ten (never below 1: these are counts), and at most `most` steps, so the axis
    reads 0/5/10/15/20/25, never 0/6/12/19/25."""
    step = 1.0
    while maximum > step * most:
        for factor in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10 -> 20 …
            step *= factor
            if maximum <= step * most:
                break
    steps = max(math.ceil(maximum / step), 1)
    return [step * i for i in range(steps + 1)]


def _open(chart_id: str, width: int, height: int, title: str, desc: str, n_series: int) -> list:
    defs = "".join(_pattern(chart_id, i) for i in range(n_series))
    return [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f"<defs>{defs}</defs>",
    ]


def _legend(
    chart_id: str, series: Sequence[Series], x0: float, y: float, width: float
) -> tuple[str, float]:
    """The key, wrapped onto more lines when it does not fit; returns it and its height."""
    parts, x, lines = [], x0, 1
    for index, one in enumerate(series):
        item = 34 + 7 * len(one.name)
        if x > x0 and x + item > width:
            x, y, lines = x0, y + 18, lines + 1
        parts.append(
            f'<g transform="translate({x:.1f},{y:.1f})">'
            f'<rect width="16" height="12" fill="url(#{chart_id}-p{index})" stroke="{INK}" '
            f'stroke-width="0.5"/><text x="22" y="10" fill="{INK}">{escape(one.name)}</text></g>'
        )
        x += item
    return "".join(parts), lines * 18


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 900,
    height: int = 320,
) -> SafeString:
    """Stacked columns, one per label (e.g. a day), with each column's total written on top
    when there is room for it."""
    left, right, bottom = 52, 12, 46
    legend, legend_h = _legend(chart_id, series, left, 8, width - right)
    top = 16 + legend_h
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ticks = _ticks(max(totals, default=0))
    ceiling = ticks[-1]
    out = _open(chart_id, width, height, title, desc, len(series))
    out.append(legend)
    for value in ticks:
        y = top + plot_h - plot_h * value / ceiling
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{_fmt_int(value)}</text>"
        )
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.72, 1)
    label_every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for index, one in enumerate(series):
            # A zero still gets its (empty) rect and tooltip: the page costs the same to
            # build however sparse the data.
            value = one.values[i]
            h = plot_h * value / ceiling
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="url(#{chart_id}-p{index})" stroke="#fff" stroke-width="0.5">'
                f"<title>{escape(label)} · {escape(one.name)}: {_fmt_int(value)}</title></rect>"
            )
        if totals[i] and n <= 31:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'font-size="10" fill="{INK}">{_fmt_int(totals[i])}</text>'
            )
        if i % label_every == 0:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{INK}"/></svg>'
    )
    return mark_safe("".join(out))  # noqa: S308 - every text above went through escape()


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    stacked: bool = True,
    maximum: float | None = None,
    value_format: Callable[[float], str] = _fmt_int,
    width: int = 900,
    label_width: int = 210,
) -> SafeString:
    """Horizontal bars, one row per label: stacked (parts of one whole, total written at the
    end) or grouped (one bar per series, each with its value)."""
    bar_h = 18
    rows = len(labels)
    row_h = (bar_h if stacked else bar_h * len(series)) + 12
    bottom, right = 10, 60
    legend, legend_h = _legend(chart_id, series, 10, 8, width - 10)
    top = 16 + legend_h
    height = top + bottom + max(rows, 1) * row_h
    plot_w = width - label_width - right
    if stacked:
        totals = [sum(s.values[i] for s in series) for i in range(rows)]
        ceiling = maximum or _nice_ceiling(max(totals, default=0))
    else:
        ceiling = maximum or _nice_ceiling(max((v for s in series for v in s.values), default=0))
    out = _open(chart_id, width, height, title, desc, len(series))
    out.append(legend)
    if not rows:
        out.append("</svg>")
        return mark_safe("".join(out))  # noqa: S308
    for i, label in enumerate(labels):
        y = top + i * row_h
        room = int((label_width - 12) / 6.6)
        short = label if len(label) <= room else label[: room - 1] + "…"
        out.append(
            f'<text x="{label_width - 8}" y="{y + (row_h - 12) / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{INK}"><title>{escape(label)}</title>{escape(short)}</text>'
        )
        x = label_width
        for index, one in enumerate(series):
            value = one.values[i]
            w = plot_w * (value / ceiling) if ceiling else 0
            by = y if stacked else y + index * bar_h
            if w > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{by:.1f}" width="{w:.1f}" height="{bar_h - 2}" '
                    f'fill="url(#{chart_id}-p{index})" stroke="#fff" stroke-width="0.5">'
                    f"<title>{escape(label)} · {escape(one.name)}: {value_format(value)}"
                    f"</title></rect>"
                )
            if stacked:
                x += w
            else:
                out.append(
                    f'<text x="{x + w + 5:.1f}" y="{by + bar_h - 5:.1f}" fill="{INK}">'
                    f"{escape(value_format(value))}</text>"
                )
        if stacked:
            out.append(
                f'<text x="{x + 5:.1f}" y="{y + bar_h - 5:.1f}" fill="{INK}" font-weight="600">'
                f"{escape(value_format(totals[i]))}</text>"
            )
    out.append(
        f'<line x1="{label_width}" x2="{label_width}" y1="{top - 4}" y2="{height - bottom}" '
        f'stroke="{INK}"/></svg>'
    )
    return mark_safe("".join(out))  # noqa: S308 - every text above went through escape()
