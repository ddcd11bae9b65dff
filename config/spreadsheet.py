"""Cells that a spreadsheet will not run: the one defuser of every CSV and XLSX Saring writes
(decision-log exports, the dashboard's chart CSVs, import error reports).

A spreadsheet treats a cell that starts with = + - @ (or a tab or carriage return before one)
as a formula, so a reported account named "=HYPERLINK(…)" could act on an auditor's machine
(OWASP "CSV injection"). Such a cell gets a leading apostrophe, which spreadsheets show as
text and do not run. The same rule is written here once in Python and once as SQL, for the
exports PostgreSQL writes itself with COPY.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value safe for a spreadsheet cell: strings that would start a formula are quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _sql_literal(char: str) -> str:
    return {"\t": "E'\\t'", "\r": "E'\\r'"}.get(char, f"'{char}'")


def cell_sql(expression: str) -> str:
    """The same rule as `cell`, for a text expression in SQL (e.g. inside COPY … TO)."""
    starts = ", ".join(_sql_literal(char) for char in FORMULA_START)
    return (
        f"(CASE WHEN left({expression}, 1) IN ({starts})"
        f" THEN '''' || {expression} ELSE {expression} END)"
    )
