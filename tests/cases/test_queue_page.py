"""The queue page: order, filters, search, counts, keyset pages, htmx partials, queries; and
the case page's queries and evidence blurring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation.cases.selectors import QueueFilters, case_queue, queue_counts
from moderation.cases.services import case_claim_next
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    PlatformFactory,
    ReportFactory,
)
from tests.support.queue import make_open_cases

pytestmark = pytest.mark.django_db


def ids(page) -> list[int]:
    return [case.pk for case in page.cases]


def test_it_walks_every_case_once_by_keyset_in_priority_order():
    cases = make_open_cases(260)  # priorities repeat: ties are ordered by id
    seen, cursor = [], ""
    while True:
        page = case_queue(filters=QueueFilters(), cursor=cursor, limit=50)
        seen += page.cases
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 260 and len({c.pk for c in seen}) == 260
    assert [(-c.priority, c.pk) for c in seen] == sorted((-c.priority, c.pk) for c in cases)


def test_it_never_uses_offset():
    make_open_cases(120)
    page = case_queue(filters=QueueFilters(), limit=50)
    with CaptureQueriesContext(connection) as queries:
        case_queue(filters=QueueFilters(), cursor=page.next_cursor, limit=50)
    assert all("OFFSET" not in q["sql"].upper() for q in queries.captured_queries)


def test_it_filters_by_each_field():
    now = timezone.now()
    telegram = PlatformFactory(slug="telegram")
    urgent = CaseFactory(category="child_sexual_abuse", urgent=True, source_kinds="police")
    old = CaseFactory(opened_at=now - timedelta(days=9), source_kinds="public")
    other = CaseFactory(account=ChatAccountFactory(platform=telegram), source_kinds="ministry")
    due = CaseFactory(opened_at=now - timedelta(hours=20))

    def only(**filters):
        return set(ids(case_queue(filters=QueueFilters(**filters))))

    assert only(category="child_sexual_abuse") == {urgent.pk}
    assert only(urgency="urgent") == {urgent.pk}
    assert only(source="public") == {old.pk}
    assert only(platform="telegram") == {other.pk}
    assert only(age="7d+") == {old.pk}
    assert only(sla="breached") == {old.pk}
    assert only(sla="due") == {due.pk}
    assert urgent.pk in only(sla="ok") and old.pk not in only(sla="ok")
    assert only(claimed="claimed") == set()


def test_it_separates_claimed_from_unclaimed(moderator):
    first, second = CaseFactory(priority=9), CaseFactory(priority=1)
    case_claim_next(moderator=moderator)
    assert ids(case_queue(filters=QueueFilters(claimed="claimed"))) == [first.pk]
    assert ids(case_queue(filters=QueueFilters(claimed="unclaimed"))) == [second.pk]
    assert ids(case_queue(filters=QueueFilters())) == [first.pk, second.pk]


def test_it_searches_identifiers_names_and_report_text():
    by_phone = CaseFactory(
        account=ChatAccountFactory(identifier="+6281234567890", identifier_kind="phone")
    )
    by_name = CaseFactory(account=ChatAccountFactory(display_name="Bella VIP Jaksel"))
    by_text = CaseFactory()
    ReportFactory(case=by_text, description="Menawarkan open BO area Bekasi, tarif di profil")
    CaseFactory()

    def search(text):
        return set(ids(case_queue(filters=QueueFilters(q=text))))

    assert search("0812-3456-7890") == {by_phone.pk}  # any way the number is written
    assert search("bella") == {by_name.pk}
    assert search("bekasi tarif") == {by_text.pk}
    assert search("nothing-like-this") == set()


def test_it_counts_per_filter():
    make_open_cases(5, category="fraud")
    CaseFactory(category="terrorism", urgent=True, source_kinds="police,public")
    counts = queue_counts(use_cache=False)
    assert counts["total"] == 6
    assert counts["category"] == {"fraud": 5, "terrorism": 1}
    assert counts["urgency"] == {"urgent": 1, "normal": 5}
    assert counts["source"]["police"] == 1 and counts["source"]["public"] == 1
    assert counts["claimed"]["unclaimed"] == 6
    assert sum(counts["age"].values()) == 6 and sum(counts["sla"].values()) == 6


def test_it_serves_the_page_or_the_partial(client_for, moderator):
    cache.clear()  # the counts are cached briefly in Redis
    make_open_cases(60)
    client = client_for(moderator)
    full = client.get("/queue/")
    assert full.status_code == 200 and b"<html" in full.content and b"queue-filters" in full.content
    partial = client.get("/queue/?category=prostitution", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content
    assert b"<table" in partial.content and b"after=" in partial.content
    counts = client.get("/queue/counts/")
    assert counts.status_code == 200 and b"<strong>60</strong> in the queue" in counts.content


def test_it_ignores_a_bad_filter_or_cursor_without_a_500(client_for, moderator):
    CaseFactory()
    response = client_for(moderator).get("/queue/?category=bogus&after=junk&age=forever")
    assert response.status_code == 200
    assert b"were not understood" in response.content
    assert response.context["page"].cases  # the first page, as if no cursor was sent


def test_it_reads_a_page_in_a_constant_number_of_queries(client_for, moderator):
    client = client_for(moderator)
    make_open_cases(10, prefix="a")
    client.get("/queue/")
    with CaptureQueriesContext(connection) as small:
        client.get("/queue/")
    make_open_cases(200, prefix="b")
    with CaptureQueriesContext(connection) as large:
        client.get("/queue/?after=50.0_1")
    assert len(small) == len(large)
    assert len(large) <= 8  # session, user, roles, platforms, one page of cases, session save


def test_it_reads_a_case_page_in_a_constant_number_of_queries(client_for, moderator):
    case = CaseFactory()
    ReportFactory(case=case)
    client = client_for(moderator)
    client.get(f"/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/cases/{case.pk}/")
    for _ in range(15):
        ReportFactory(case=case, source_kind="public", organisation=None, external_reference=None)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/cases/{case.pk}/")
    assert len(few) == len(many)


def test_it_finds_a_common_term_by_walking_the_queue(monkeypatch):
    """Past the threshold the search tests each queued case in priority order instead."""
    from moderation.cases import selectors as selectors_queue

    monkeypatch.setattr(selectors_queue, "COMMON_TERM_MATCHES", 1)
    named = CaseFactory(priority=5, account=ChatAccountFactory(display_name="Bella VIP"))
    told = CaseFactory(priority=9)
    ReportFactory(case=told, description="bella menawarkan open BO")
    CaseFactory(priority=7)
    assert ids(case_queue(filters=QueueFilters(q="bella"))) == [told.pk, named.pk]


def test_it_keeps_evidence_blurred_for_those_who_ask(client_for, moderator):
    from moderation.models import AuditEvent, StaffPreference

    case = CaseFactory()
    client = client_for(moderator)
    assert 'data-keep-blurred="false"' in client.get(f"/cases/{case.pk}/").content.decode()
    client.post(
        "/preferences/evidence/", {"keep_evidence_blurred": "on", "back": f"/cases/{case.pk}/"}
    )
    assert StaffPreference.objects.get(user=moderator).keep_evidence_blurred
    assert 'data-keep-blurred="true"' in client.get(f"/cases/{case.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="preference.changed").count() == 1


@pytest.mark.parametrize(
    "back", ["/\\evil.example", "//evil.example/", "https://evil.example/", "/\\/evil.example"]
)
def test_a_back_address_off_this_site_goes_home_instead(client_for, moderator, back):
    response = client_for(moderator).post(
        "/preferences/evidence/", {"keep_evidence_blurred": "on", "back": back}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
