"""The small rules every app shares, each written once: the bulk-write recordset, the
spreadsheet defuser (Python and SQL alike), the keyset cursor codec and the inline picture
types."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection

from config.recordset import Recordset
from config.spreadsheet import FORMULA_START, cell, cell_sql
from moderation.keyset import BadCursor, cursor_decode, cursor_encode
from reports.forms import ScreenshotsField
from reports.models import INLINE_IMAGE_TYPES
from reports.services.evidence import FORMATS
from tests.support.factories import DecisionFactory, UserFactory

ROWS = Recordset((("id", "bigint"), ("at", "timestamptz"), ("note", "text")))


def test_a_recordset_keeps_timestamps_to_the_microsecond():
    moment = datetime(2026, 12, 3, 1, 2, 3, 456789, tzinfo=UTC)
    document = json.loads(ROWS.rows([{"id": 1, "at": moment, "note": "x", "extra": "dropped"}]))
    assert document == [{"id": 1, "at": "2026-12-03T01:02:03.456789+00:00", "note": "x"}]


def test_a_recordset_refuses_a_value_it_does_not_know_instead_of_guessing():
    with pytest.raises(TypeError, match="set"):
        ROWS.rows([{"id": 1, "at": None, "note": {"a", "b"}}])


@pytest.mark.django_db
def test_a_recordset_reads_back_in_postgresql_as_sent():
    moment = datetime(2026, 12, 3, 1, 2, 3, 456789, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, at, note FROM {ROWS.source}",  # noqa: S608 - constants only
            [ROWS.rows([{"id": 7, "at": moment, "note": "Open BO"}])],
        )
        assert cursor.fetchall() == [(7, moment, "Open BO")]


@pytest.mark.django_db
@pytest.mark.parametrize("text", [*(c + "SUM(A1)" for c in FORMULA_START), "plain", "a=b", ""])
def test_the_python_and_the_sql_defuser_agree(text):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cell_sql('t.v')} FROM (SELECT %s::text AS v) t", [text])  # noqa: S608
        assert cursor.fetchone()[0] == cell(text)
    assert cell(text).startswith("'") == text.startswith(FORMULA_START)


@pytest.mark.django_db
def test_the_dashboards_chart_csv_is_defused_too(client_for, supervisor):
    DecisionFactory(moderator=UserFactory(username="=cmd|calc"))
    response = client_for(supervisor).get("/supervision/throughput.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == ["'=cmd|calc"]


@pytest.mark.parametrize(
    ("parts", "kinds"),
    [
        ((12.5, 3), (float, int)),
        ((datetime(2026, 12, 3, 1, 2, 3, 456789, tzinfo=UTC), uuid.uuid4()), (datetime, uuid.UUID)),
        ((datetime(2026, 12, 3, tzinfo=UTC), 99), (datetime, int)),
        ((123456789,), (int,)),
    ],
)
def test_a_cursor_reads_back_exactly(parts, kinds):
    assert cursor_decode(cursor_encode(*parts), kinds) == parts


@pytest.mark.parametrize("text", ["", "junk", "1_2_3", "nan_1", "1e999_1", "9" * 200, "1.5_x"])
def test_a_foreign_cursor_is_refused_not_guessed(text):
    with pytest.raises(BadCursor):
        cursor_decode(text, (float, int))


def test_the_picture_types_are_one_list_for_uploads_the_form_and_the_pages():
    assert tuple(content_type for content_type, _ in FORMATS.values()) == INLINE_IMAGE_TYPES
    assert ScreenshotsField().widget.attrs["accept"] == ",".join(INLINE_IMAGE_TYPES)
