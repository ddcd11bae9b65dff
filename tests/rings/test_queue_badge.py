"""The queue row of a returning case says so, links to the old takedown's case and explains
itself on hover, for restricted rows too, in a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moderation.cases import cases_mark_returning
from tests.support.queue import make_open_cases
from tests.support.rings import account, open_case, taken_down

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<a class="badge returning" href="/cases/(\d+)/" title="([^"]+)">Returning</a>')


def returning_case(name: str, number: str, **case_fields):
    old = account(f"{name}_old", phones=[number])
    request = taken_down(old)
    new = account(name, platform="telegram", phones=[number])
    case = open_case(new, **case_fields)
    assert cases_mark_returning(account_ids=[new.pk]) == [case.pk]
    return case, request


def test_the_queue_row_shows_the_returning_badge_linking_to_the_old_takedowns_case(
    client_for, moderator
):
    case, request = returning_case("bella", "+6281234567890")

    html = client_for(moderator).get("/queue/").content.decode()

    row = next(line for line in html.splitlines() if f'data-href="/cases/{case.pk}/"' in line)
    badge = BADGE.search(row)
    assert badge is not None
    assert badge.group(1) == str(request.case_id)
    assert badge.group(2).startswith("Same phone number as michat · bella_old, taken down on ")
    assert html.count('class="badge returning"') == 1


def test_a_restricted_row_keeps_the_badge_but_not_the_content(client_for, moderator2):
    case, request = returning_case("hidden", "+6281299990000", category="child_sexual_abuse")

    html = client_for(moderator2).get("/queue/").content.decode()

    row = next(line for line in html.splitlines() if f'data-href="/cases/{case.pk}/"' in line)
    assert 'class="snippet restricted"' in row
    assert BADGE.search(row).group(1) == str(request.case_id)


def test_returning_rows_cost_no_extra_query(client_for, moderator):
    client = client_for(moderator)
    make_open_cases(5, prefix="plain")
    client.get("/queue/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/queue/")
    for i in range(3):
        returning_case(f"back{i}", f"+62812000000{i}")
    with CaptureQueriesContext(connection) as flagged:
        html = client.get("/queue/").content.decode()
    assert html.count('class="badge returning"') == 3
    assert len(flagged) == len(plain)
