"""Many rows in one statement: the batch travels as one JSON document and PostgreSQL reads it
back as a relation with `jsonb_to_recordset`.

Intake writes up to 500 reports at a time, with their accounts, cases and audit events. The
ORM's bulk operations spend more time in Python than the database spends on the rows, and
psycopg's array parameters are dumped value by value; `json.dumps` is C. Every bulk write
(accounts, cases, reports, audit events) goes through this one helper, so they encode values
the same way: timestamps to the microsecond, and anything it does not know refused rather
than guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID


def _encode(value: Any) -> str:
    # DjangoJSONEncoder would cut timestamps to milliseconds; str() would hide a bug.
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"a {type(value).__name__} cannot go into a recordset")


@dataclass(frozen=True)
class Recordset:
    """The columns of a batch: (name, PostgreSQL type) pairs, in order."""

    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def source(self) -> str:
        """`jsonb_to_recordset(%s::jsonb) AS v(…)`: a FROM item whose one parameter is
        `rows(...)`; its columns are v.<name>."""
        definitions = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        return f"jsonb_to_recordset(%s::jsonb) AS v({definitions})"

    def insert_sql(
        self, table: str, *, values: Mapping[str, str] | None = None, returning: str = ""
    ) -> str:
        """`INSERT INTO table (columns) SELECT … FROM <source>`; `values` gives the expression
        for a column that needs more than v.<name> (e.g. a jsonb array to a text[])."""
        values = values or {}
        expressions = ", ".join(values.get(name, f"v.{name}") for name in self.names)
        # Table and columns are constants of the caller, never input.
        columns = ", ".join(self.names)
        sql = f"INSERT INTO {table} ({columns}) SELECT {expressions} FROM {self.source}"  # noqa: S608
        return f"{sql} RETURNING {returning}" if returning else sql

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> str:
        """The parameter for `source`: the rows as one JSON document (only known columns)."""
        names = self.names
        return json.dumps([{name: row[name] for name in names} for row in rows], default=_encode)
