"""The hand-off from intake to moderation: which case a report joins, and the case's
denormalised counters and priority afterwards (DESIGN.md "Lifecycles", "Priority").

Both functions run inside the intake transaction, after the accounts' rows are locked
(`accounts.services.chat_accounts_resolve`), so at most one writer decides per account
whether to open a case; the partial unique index `case_one_open_per_account` is the backstop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from accounts.categories import URGENT_CATEGORIES
from accounts.models import ChatAccount
from moderation.models import Case
from moderation.priority import CATEGORY_SEVERITY, case_priority


@dataclass(frozen=True)
class CaseSeed:
    """What a new case starts from: the first report's category and time."""

    category: str
    received_at: datetime


def cases_open_for(
    *, accounts: list[ChatAccount], seeds: dict[int, CaseSeed]
) -> tuple[dict[int, Case], set[int]]:
    """The open case of every account, opening one (linked to the account's previous case)
    where there is none. Returns (cases by account id, ids of the cases opened now)."""
    account_ids = [account.pk for account in accounts]
    cases = {
        case.account_id: case
        for case in Case.objects.select_for_update()
        .filter(account_id__in=account_ids, status__in=Case.OPEN_STATUSES)
        .order_by("id")
    }
    missing = [account_id for account_id in account_ids if account_id not in cases]
    if not missing:
        return cases, set()
    previous = dict(
        Case.objects.filter(account_id__in=missing)
        .order_by("account_id", "-opened_at", "-id")
        .distinct("account_id")
        .values_list("account_id", "id")
    )
    new_cases = [
        Case(
            account_id=account_id,
            previous_case_id=previous.get(account_id),
            category=seeds[account_id].category,
            opened_at=seeds[account_id].received_at,
            last_report_at=seeds[account_id].received_at,
        )
        for account_id in missing
    ]
    Case.objects.bulk_create(new_cases)
    reopened = [
        account
        for account in accounts
        if account.pk in missing and account.status != ChatAccount.Status.UNDER_REVIEW
    ]
    if reopened:
        # A new case puts the account back under review, whatever its last case decided.
        ChatAccount.objects.filter(pk__in=[a.pk for a in reopened]).update(
            status=ChatAccount.Status.UNDER_REVIEW, updated_at=timezone.now()
        )
    for case in new_cases:
        cases[case.account_id] = case
    return cases, {case.pk for case in new_cases}


_CASE_TOTALS = """
SELECT case_id,
       count(*),
       count(DISTINCT organisation_id) + count(*) FILTER (WHERE organisation_id IS NULL),
       array_agg(DISTINCT source_kind),
       array_agg(DISTINCT category),
       bool_or(urgent),
       max(received_at)
  FROM reports_report
 WHERE case_id = ANY(%s)
 GROUP BY case_id
"""


def cases_refresh(*, cases: list[Case], now: datetime | None = None) -> None:
    """Recompute the counters, worst category, urgency and priority of the given cases from
    their reports, in one query and one UPDATE. Every distinct organisation counts as one
    reporter; every report from the public counts as a separate person."""
    if not cases:
        return
    now = now or timezone.now()
    by_id = {case.pk: case for case in cases}
    with connection.cursor() as cursor:
        cursor.execute(_CASE_TOTALS, [list(by_id)])
        totals = cursor.fetchall()
    for case_id, reports, reporters, kinds, categories, urgent, last_at in totals:
        case = by_id[case_id]
        case.report_count = reports
        case.reporter_count = reporters
        case.source_kinds = ",".join(sorted(kinds))
        case.category = max(categories, key=lambda c: (CATEGORY_SEVERITY.get(c, 0), c))
        # CSAM and terrorism are urgent by law (DESIGN.md "Deadlines"), whoever reported.
        case.urgent = bool(urgent) or any(c in URGENT_CATEGORIES for c in categories)
        case.last_report_at = max(case.last_report_at, last_at)
        case.priority, _parts = case_priority(
            category=case.category,
            source_kinds=set(kinds),
            reporter_count=reporters,
            urgent=case.urgent,
            opened_at=case.opened_at,
            now=now,
        )
        case.updated_at = now
    Case.objects.bulk_update(
        list(by_id.values()),
        [
            "report_count",
            "reporter_count",
            "source_kinds",
            "category",
            "urgent",
            "last_report_at",
            "priority",
            "updated_at",
        ],
    )
