"""The hand-off from intake to moderation: which case a report joins, and the case's
denormalised counters and priority afterwards (DESIGN.md "Lifecycles", "Priority").

Both functions run inside the intake transaction, after the accounts' rows are locked
(`accounts.services.chat_accounts_resolve`), so at most one writer decides per account
whether to open a case; the partial unique index `case_one_open_per_account` is the backstop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from accounts.categories import URGENT_CATEGORIES
from accounts.models import ChatAccount
from config.recordset import Recordset
from moderation.audit import Actor, AuditEntry, audit_record_many
from moderation.cases.priority import PUBLIC_REPORTERS_MAX, case_priority, worst_category
from moderation.models import Case
from moderation.rings import accounts_returning


@dataclass(frozen=True)
class CaseSeed:
    """What a new case starts from: the first report's category and time."""

    category: str
    received_at: datetime


@dataclass(frozen=True)
class CaseRef:
    id: int
    status: str


def cases_open_for(
    *, accounts: list[ChatAccount], seeds: dict[int, CaseSeed]
) -> tuple[dict[int, CaseRef], set[int]]:
    """The open case of every account, opening one (linked to the account's previous case)
    where there is none, and flagging those whose account comes back after a takedown
    (`cases_flag_returning`, before the caller's `cases_refresh` scores them). Returns (cases
    by account id, ids of the cases opened now)."""
    account_ids = [account.pk for account in accounts]
    cases = {
        account_id: CaseRef(case_id, status)
        for account_id, case_id, status in Case.objects.select_for_update()
        .filter(account_id__in=account_ids, status__in=Case.OPEN_STATUSES)
        .order_by("id")
        .values_list("account_id", "id", "status")
    }
    missing = [account_id for account_id in account_ids if account_id not in cases]
    if not missing:
        cases_flag_returning(account_ids=account_ids)
        return cases, set()
    previous = dict(
        Case.objects.filter(account_id__in=missing)
        .order_by("account_id", "-opened_at", "-id")
        .distinct("account_id")
        .values_list("account_id", "id")
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CASES_INSERT,
            [
                now,
                _NEW_CASES.rows(
                    {
                        "account_id": account_id,
                        "previous_id": previous.get(account_id),
                        "category": seeds[account_id].category,
                        "opened_at": seeds[account_id].received_at,
                    }
                    for account_id in missing
                ),
            ],
        )
        opened = {account_id: case_id for case_id, account_id in cursor.fetchall()}
    reopened = [
        account.pk
        for account in accounts
        if account.pk in opened and account.status != ChatAccount.Status.UNDER_REVIEW
    ]
    if reopened:
        # A new case puts the account back under review, whatever its last case decided.
        ChatAccount.objects.filter(pk__in=reopened).update(
            status=ChatAccount.Status.UNDER_REVIEW, updated_at=now
        )
    for account_id, case_id in opened.items():
        cases[account_id] = CaseRef(case_id, Case.Status.OPEN)
    cases_flag_returning(account_ids=account_ids)
    return cases, set(opened.values())


# Flagging reads as the system's doing: a match found, not a person's decision.
RETURNING_ACTOR = Actor.system("rings")

_RETURNING = Recordset(
    (
        ("account_id", "bigint"),
        ("request_id", "uuid"),
        ("via", "text"),
        ("other_id", "bigint"),
    )
)
# The cases are locked in id order first (intake locks them in that order too), then flagged
# only if still open and unflagged once locked.
_RETURNING_UPDATE = f"""
UPDATE moderation_case AS c
   SET returning_from_id = v.request_id, returning_via = v.via, updated_at = %s
  FROM {_RETURNING.source}
 WHERE c.account_id = v.account_id
   AND c.status = ANY(%s) AND c.returning_from_id IS NULL
   AND c.id IN (SELECT id FROM moderation_case
                 WHERE account_id = ANY(%s) AND status = ANY(%s) AND returning_from_id IS NULL
                 ORDER BY id FOR UPDATE)
RETURNING c.id, v.request_id, v.via, v.other_id
"""  # noqa: S608 - built from this module's constants only


def cases_flag_returning(
    *, account_ids: Iterable[int], actor: Actor = RETURNING_ACTOR, now: datetime | None = None
) -> list[int]:
    """Flag the open, not yet flagged cases of these accounts whose account directly matches
    an account already taken down (moderation.rings.accounts_returning: the same number,
    a linked picture or the same profile address): Case.returning_from (the old takedown
    request) and returning_via, with an audit event `case.returning` each, in the caller's
    transaction. One query when nothing matches, as for almost every intake batch. The
    priority is the caller's to recompute (`cases_refresh`). Returns the flagged cases' ids."""
    matches = accounts_returning(account_ids=account_ids)
    if not matches:
        return []
    now = now or timezone.now()
    ids = sorted(matches)
    with connection.cursor() as cursor:
        cursor.execute(
            _RETURNING_UPDATE,
            [
                now,
                _RETURNING.rows(
                    {
                        "account_id": m.account_id,
                        "request_id": m.request_id,
                        "via": m.via,
                        "other_id": m.other_account_id,
                    }
                    for m in matches.values()
                ),
                list(Case.OPEN_STATUSES),
                ids,
                list(Case.OPEN_STATUSES),
            ],
        )
        flagged = cursor.fetchall()
    audit_record_many(
        entries=[
            AuditEntry(
                actor=actor,
                action="case.returning",
                subject_type="moderation.case",
                subject_id=str(case_id),
                subject_label=f"Case {case_id}",
                data={
                    "after": {
                        "returning_from": str(request_id),
                        "via": via,
                        "matches_account": other_id,
                    }
                },
            )
            for case_id, request_id, via, other_id in flagged
        ]
    )
    return sorted(case_id for case_id, *_rest in flagged)


_NEW_CASES = Recordset(
    (
        ("account_id", "bigint"),
        ("previous_id", "bigint"),
        ("category", "text"),
        ("opened_at", "timestamptz"),
    )
)
_CASES_INSERT = f"""
INSERT INTO moderation_case
    (account_id, previous_case_id, status, category, urgent, report_count, reporter_count,
     source_kinds, priority, opened_at, last_report_at, version, updated_at)
SELECT v.account_id, v.previous_id, 'open', v.category, false, 0, 0, '', 0,
       v.opened_at, v.opened_at, 1, %s
  FROM {_NEW_CASES.source}
RETURNING id, account_id
"""  # noqa: S608 - built from this module's constants only

_CASE_TOTALS = """
SELECT r.case_id,
       count(*),
       count(DISTINCT r.organisation_id)
         + least(count(DISTINCT coalesce(nullif(r.reporter_key, ''), 'report:' || r.id))
                   FILTER (WHERE r.organisation_id IS NULL), %s),
       array_agg(DISTINCT r.source_kind),
       array_agg(DISTINCT r.category),
       array_agg(DISTINCT r.category) FILTER (WHERE r.organisation_id IS NOT NULL),
       coalesce(bool_or(r.urgent) FILTER (WHERE r.organisation_id IS NOT NULL), false),
       max(r.received_at),
       c.opened_at,
       c.last_report_at,
       c.returning_from_id IS NOT NULL
  FROM reports_report r
  JOIN moderation_case c ON c.id = r.case_id
 WHERE r.case_id = ANY(%s)
 GROUP BY r.case_id, c.opened_at, c.last_report_at, c.returning_from_id
"""

_CASE_TOTALS_OUT = Recordset(
    (
        ("id", "bigint"),
        ("reports", "int"),
        ("reporters", "int"),
        ("kinds", "text"),
        ("category", "text"),
        ("urgent", "bool"),
        ("last_at", "timestamptz"),
        ("priority", "float8"),
    )
)
_CASES_UPDATE = f"""
UPDATE moderation_case AS c
   SET report_count = v.reports, reporter_count = v.reporters, source_kinds = v.kinds,
       category = v.category, urgent = v.urgent, last_report_at = v.last_at,
       priority = v.priority, updated_at = %s
  FROM {_CASE_TOTALS_OUT.source}
 WHERE c.id = v.id
"""  # noqa: S608 - built from this module's constants only


def cases_refresh(*, case_ids: list[int], now: datetime | None = None) -> None:
    """Recompute the counters, worst category, urgency and priority (with the case's
    returning flag) of the given cases from their reports, in one query and one UPDATE.
    Every distinct organisation counts as one reporter, and distinct members of the public
    (by `Report.reporter_key`) up to PUBLIC_REPORTERS_MAX. Only organisations' reports make a
    case urgent: a public report's category counts towards its severity, never on its own
    towards urgency."""
    if not case_ids:
        return
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CASE_TOTALS, [PUBLIC_REPORTERS_MAX, list(case_ids)])
        totals = cursor.fetchall()
    rows = []
    for (
        case_id,
        reports,
        reporters,
        kinds,
        categories,
        official_categories,
        urgent,
        last_at,
        opened_at,
        last,
        returning,
    ) in totals:
        category = worst_category(categories)
        # CSAM and terrorism are urgent by law (DESIGN.md "Deadlines") when an organisation
        # reports them; anyone can type a category into the public form.
        is_urgent = bool(urgent) or any(c in URGENT_CATEGORIES for c in official_categories or [])
        priority, _parts = case_priority(
            category=category,
            source_kinds=set(kinds),
            reporter_count=reporters,
            urgent=is_urgent,
            opened_at=opened_at,
            now=now,
            returning=returning,
        )
        rows.append(
            (
                case_id,
                reports,
                reporters,
                ",".join(sorted(kinds)),
                category,
                is_urgent,
                max(last, last_at),
                priority,
            )
        )
    if rows:
        names = _CASE_TOTALS_OUT.names
        with connection.cursor() as cursor:
            cursor.execute(
                _CASES_UPDATE,
                [now, _CASE_TOTALS_OUT.rows(dict(zip(names, row, strict=True)) for row in rows)],
            )
