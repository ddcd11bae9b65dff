"""The chat account page (identifiers, linked accounts, timeline) and the global search. Who
may open them is the role matrix's (tests/security/test_role_matrix.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation.audit.services.chain import Actor, audit_record
from moderation.models import DeliveryAttempt
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    PlatformFactory,
    ReportFactory,
    TakedownRequestFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_account():
    return ChatAccountFactory(
        platform=PlatformFactory(slug="michat", name="MiChat"),
        identifier="+6281234567890",
        identifier_kind="phone",
        phone_numbers=["+6281234567890"],
        display_name="Sari Open BO Jaksel",
    )


def _history(account, n: int):
    """n reports on one case, a decision, an approval, a request with a delivery attempt, and
    audit events about them."""
    case = CaseFactory(account=account, status="closed", closed_at=timezone.now())
    reports = [
        ReportFactory(case=case, received_at=timezone.now() - timedelta(hours=10 - i))
        for i in range(n)
    ]
    request = TakedownRequestFactory(
        approval__decision__case=case,
        approval__decision__created_at=timezone.now() - timedelta(hours=3),
        approval__created_at=timezone.now() - timedelta(hours=2),
        issued_at=timezone.now() - timedelta(hours=2),
        status="taken_down",
        resolved_at=timezone.now() - timedelta(hours=1),
        operator_reference="OP-77",
    )
    DeliveryAttempt.objects.create(
        request=request,
        number=1,
        started_at=timezone.now() - timedelta(minutes=100),
        http_status=202,
        outcome="acknowledged",
    )
    audit_record(
        actor=Actor.operator(account.platform), action="takedown.resolved", subject=request
    )
    audit_record(actor=Actor.system(), action="account.status_changed", subject=account)
    return case, reports, request


def test_the_account_page_shows_identifiers_links_and_the_whole_timeline(
    client_for, supervisor, phone_account
):
    other = ChatAccountFactory(
        platform=PlatformFactory(slug="wa", name="WhatsApp"),
        identifier="sari.bo",
        phone_numbers=["+6281234567890", "+6281111111111"],
    )
    ChatAccountFactory(identifier="unrelated", phone_numbers=["+6289999999999"])
    case, reports, request = _history(phone_account, 2)
    page = client_for(supervisor).get(f"/accounts/{phone_account.pk}/").content.decode()
    assert "+6281234567890" in page and "Sari Open BO Jaksel" in page
    assert f'href="/accounts/{other.pk}/"' in page and "unrelated" not in page
    for text in (
        reports[0].receipt_code,
        f"Case {case.pk} opened",
        "Propose takedown by",
        "Proposal approved by",
        f"Takedown request {request.pk} issued to MiChat",
        "Operator reported: Taken down",
        "Delivery attempt 1: acknowledged",
        "takedown.resolved",  # an action with no label yet is shown as its code
        "Account status changed",  # audit events read as words (moderation/audit/actions.py)
    ):
        assert text in page, text
    # oldest first
    assert page.index(reports[0].receipt_code) < page.index("Proposal approved by")
    assert page.index("Proposal approved by") < page.index("Operator reported")


def test_a_moderator_sees_the_account_timeline_without_takedown_delivery(
    client_for, moderator, phone_account
):
    case, reports, request = _history(phone_account, 1)
    page = client_for(moderator).get(f"/accounts/{phone_account.pk}/").content.decode()
    for shown in (reports[0].receipt_code, "Proposal approved by", "Account status changed"):
        assert shown in page, shown
    for hidden in (
        str(request.pk),
        "Operator reported",
        "Delivery attempt",
        "OP-77",
        "takedown.resolved",
    ):
        assert hidden not in page, hidden


def test_a_moderator_cannot_find_a_takedown_request_by_its_id(client_for, moderator, supervisor):
    request = TakedownRequestFactory()
    link = f'href="/takedowns/{request.pk}/"'
    assert link in _search(client_for(supervisor), str(request.pk))
    page = _search(client_for(moderator), str(request.pk))
    assert link not in page and "Takedown requests" not in page and "Nothing matches" in page


def test_the_account_page_makes_the_same_queries_for_a_long_history(
    client_for, supervisor, phone_account
):
    client = client_for(supervisor)
    url = f"/accounts/{phone_account.pk}/"
    _history(phone_account, 1)
    client.get(url)  # warm the session and role caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        _history(phone_account, 5)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize("persona", ["moderator", "supervisor", "auditor"])
def test_every_reader_gets_the_search_box_in_the_header(request, client_for, persona):
    page = client_for(request.getfixturevalue(persona)).get("/search/").content.decode()
    assert 'id="header-search"' in page


def test_an_unknown_account_is_404(client_for, moderator):
    assert client_for(moderator).get("/accounts/999999/").status_code == 404


def _search(client, q: str) -> str:
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("typed", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890"])
def test_search_finds_a_phone_number_in_any_format(client_for, moderator, phone_account, typed):
    linked = ChatAccountFactory(identifier="sari.bo", phone_numbers=["+6281234567890"])
    page = _search(client_for(moderator), typed)
    assert f'href="/accounts/{phone_account.pk}/"' in page
    assert f'href="/accounts/{linked.pk}/"' in page


def test_search_finds_handles_names_receipts_references_and_requests(client_for, auditor):
    account = ChatAccountFactory(identifier="openbo_jkt", display_name="Tante Girang")
    report = ReportFactory(case=CaseFactory(account=account), external_reference="POLRI-2026-0042")
    request = TakedownRequestFactory(approval__decision__case=report.case)
    client = client_for(auditor)
    account_link = f'href="/accounts/{account.pk}/"'
    assert account_link in _search(client, "@OpenBO")  # prefix of a handle, any case
    assert account_link in _search(client, "bo_jk")  # substring
    assert account_link in _search(client, "girang")  # display name
    code = report.receipt_code
    assert code in _search(client, code)
    assert code in _search(client, code.lower().replace("-", ""))
    assert code in _search(client, "POLRI-2026-0042")
    assert str(request.pk) in _search(client, str(request.pk))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type an account identifier"),
        ("   ", "Type an account identifier"),
        ("%%%", "Type at least two letters or digits"),
        ("'; DROP TABLE x; --", "Nothing matches"),
        ("x" * 500, "longer than 200 characters"),
        (str(uuid.uuid4()), "Nothing matches"),
        ("\x00\x07", "Type an account identifier"),
        ("ab\x00cd", "Nothing matches"),
    ],
)
def test_search_answers_empty_and_junk_queries_with_a_message(
    client_for, moderator, typed, message
):
    assert message in _search(client_for(moderator), typed)


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_and_dashboard_queries_can_use_their_indexes():
    """With sequential scans priced out, the planner picks the migration's indexes: proof
    that the queries are written so that the indexes match them."""
    from accounts.models import ChatAccount
    from moderation.models import TakedownRequest
    from reports.models import Report

    ChatAccountFactory(identifier="openbo_jkt", display_name="Tante Girang")
    assert "search_chataccount_identifier_trgm" in _plan(
        ChatAccount.objects.filter(identifier__contains="bo_jk")
    )
    assert "search_chataccount_display_name_trgm" in _plan(
        ChatAccount.objects.filter(display_name__icontains="girang")
    )
    assert "chataccount_phones_gin" in _plan(
        ChatAccount.objects.filter(phone_numbers__contains=["+6281234567890"])
    )
    assert "search_report_external_reference_idx" in _plan(
        Report.objects.filter(external_reference="POLRI-1")
    )
    assert "dashboard_takedown_unconfirmed_idx" in _plan(
        TakedownRequest.objects.filter(
            status__in=["pending", "sent", "acknowledged", "failed"], deadline__lt=timezone.now()
        ).order_by("deadline")[:10]
    )


@pytest.mark.django_db(transaction=True)
def test_the_dashboards_open_cases_query_is_an_index_only_scan_of_its_partial_index():
    """The open-cases figure the dashboard computes reads only the partial index of open cases
        once the table is vacuumed (as autovacuum leaves it), with sequential scans priced out as
    for the queries above: no heap, no other index. Two partial
        indexes hold the same rows (this one and the one-open-case-per-account constraint), so on
        a table never vacuumed the planner's choice between them is a coin toss; vacuuming makes
        the plan the one production gets."""
    from moderation.dashboard.selectors import open_cases_compute

    for status in ("open", "in_review", "escalated", "closed"):
        CaseFactory(status=status)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE moderation_case")
    with CaptureQueriesContext(connection) as queries:
        open_cases_compute(now=timezone.now())
    (query,) = [q["sql"] for q in queries.captured_queries if "moderation_case" in q["sql"]]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using dashboard_case_open_idx" in plan, plan


def test_a_profile_url_is_a_link_only_when_it_is_http(client_for, moderator):
    safe = ChatAccountFactory(profile_url="https://michat.id/u/sari")
    unsafe = ChatAccountFactory(profile_url="javascript:alert(1)")
    client = client_for(moderator)
    assert 'href="https://michat.id/u/sari"' in client.get(f"/accounts/{safe.pk}/").content.decode()
    page = client.get(f"/accounts/{unsafe.pk}/").content.decode()
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
