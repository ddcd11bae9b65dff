"""The dashboard benchmark's data (bench/dashboard.py): a 90-day history written with COPY,
and what one busy refresh interval adds after the summary refresh.

Rows are written straight into the tables, as `manage.py seed_bulk` does for the queue: the
dashboard reads only the records, so what matters is that they look like production's (the
same columns, statuses and time relations), not the services that would have written them.
Every case belongs to the account with the same id.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import datetime, timedelta

HISTORY_DAYS = 90
SOURCES = (("ministry", 0.45), ("police", 0.15), ("agency", 0.05), ("public", 0.35))
CATEGORIES = (
    ("prostitution", 0.55),
    ("pornography", 0.15),
    ("gambling", 0.12),
    ("fraud", 0.08),
    ("drugs", 0.03),
    ("child_sexual_abuse", 0.02),
    ("terrorism", 0.01),
    ("disinformation", 0.04),
)
URGENT_CATEGORIES = ("child_sexual_abuse", "terrorism")
OUTCOMES = (("dismiss", 0.5), ("propose_takedown", 0.45), ("escalate", 0.05))
ACCOUNT_COLUMNS = (
    "id, platform_id, identifier, identifier_kind, display_name, profile_url, phone_numbers, "
    "status, first_reported_at, last_reported_at, created_at, updated_at"
)
CASE_COLUMNS = (
    "id, account_id, status, category, urgent, report_count, reporter_count, source_kinds, "
    "priority, opened_at, last_report_at, closed_at, version, updated_at"
)
REPORT_COLUMNS = (
    "id, source_kind, organisation_id, external_reference, payload_hash, category, "
    "description, content_urls, account_identifier_submitted, observed_at, received_at, "
    "urgent, account_id, case_id, reporter_name, reporter_email, reporter_phone, "
    "reporter_consent, receipt_code"
)
DECISION_COLUMNS = (
    "id, case_id, moderator_id, outcome, category, legal_basis_id, urgency, rationale, "
    "case_version, created_at"
)
APPROVAL_COLUMNS = (
    "id, decision_id, decision_author_id, supervisor_id, verdict, comment, created_at"
)
REQUEST_COLUMNS = (
    "id, approval_id, case_id, platform_id, account_id, category, legal_basis, urgency, "
    "summary, issued_at, deadline, status, attempts, last_error, operator_reference, "
    "resolved_at, warning_level, updated_at"
)
UNCONFIRMED = ("pending", "sent", "acknowledged", "failed")


def references() -> dict:
    """Platforms, source organisations, staff who decided the history, a legal basis."""
    from django.contrib.auth.models import User

    from accounts.models import Platform
    from config.roles import Role, role_groups
    from moderation.models import LegalBasis
    from reports.models import SourceOrganisation

    platforms = [
        Platform.objects.create(
            slug=slug,
            name=name,
            endpoint_url=f"http://127.0.0.1:9/{slug}",
            signing_secret="s" * 32,
            callback_secret="c" * 32,
        ).pk
        for slug, name in (
            ("michat", "MiChat"),
            ("whatsapp", "WhatsApp"),
            ("telegram", "Telegram"),
            ("line", "LINE"),
            ("facebook", "Facebook Messenger"),
        )
    ]
    orgs = {
        kind: SourceOrganisation.objects.create(slug=f"org-{kind}", name=kind.title(), kind=kind).pk
        for kind in ("ministry", "police", "agency")
    }

    def people(prefix: str, role: str, n: int) -> list[int]:
        group = role_groups(Role(role)).get()
        users = [User.objects.create_user(f"{prefix}{i:02d}") for i in range(n)]
        group.user_set.add(*users)
        return [user.pk for user in users]

    return {
        "platforms": platforms,
        "orgs": orgs,
        "moderators": people("moderator", "Moderator", 20),
        "supervisors": people("supervisor", "Supervisor", 4),
        "basis": LegalBasis.objects.create(
            code="uu-ite-27-1",
            title="UU ITE Pasal 27 ayat (1)",
            categories=["prostitution", "pornography"],
        ).pk,
    }


def _pick(rng: random.Random, weighted) -> str:
    roll, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if roll < acc:
            return value
    return weighted[0][0]


def _copy(cur, table: str, columns: str, rows) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _account_row(aid: int, platform: int, first: datetime, last: datetime) -> tuple:
    phone = f"+62812{aid:08d}"
    is_phone = aid % 5 < 2
    return (
        aid,
        platform,
        phone if is_phone else f"akun{aid}",
        "phone" if is_phone else "handle",
        f"Akun {aid}",
        "",
        [phone] if is_phone or aid % 7 == 0 else [],
        "under_review",
        first,
        last,
        first,
        last,
    )


def _case_row(cid, status, category, n, first, last, closed, priority, version) -> tuple:
    """A case of the account with the same id."""
    kinds = "ministry"
    return (
        cid,
        cid,
        status,
        category,
        False,
        n,
        n,
        kinds,
        priority,
        first,
        last,
        closed,
        version,
    ) + (closed or last,)


def _report_row(rid: int, kind: str, refs: dict, category: str, cid: int, at: datetime) -> tuple:
    """A report on the case `cid` (and its account, which has the same id)."""
    org = None if kind == "public" else refs["orgs"][kind]
    return (
        rid,
        kind,
        org,
        None if org is None else f"REF-{rid}",
        "",
        category,
        "Open BO",
        [],
        f"akun{cid}",
        None,
        at,
        False,
        cid,
        cid,
        "",
        "",
        "",
        False,
        f"SR-B{rid:011d}",
    )


def _request_row(approval, cid, aid, platform, category, issued, status, resolved, rng) -> tuple:
    urgent = category in URGENT_CATEGORIES
    return (
        uuid.UUID(int=rng.getrandbits(128), version=4),
        approval,
        cid,
        platform,
        aid,
        category,
        "UU ITE Pasal 27 ayat (1)",
        "urgent" if urgent else "normal",
        "Takedown",
        issued,
        issued + timedelta(hours=4 if urgent else 24),
        status,
        1,
        "",
        "",
        resolved,
        0,
        resolved or issued,
    )


# --- The history -------------------------------------------------------------------------------


def _before(now: datetime, start: datetime, at: datetime, rng: random.Random) -> datetime:
    """`at` if it is before `now`, else a moment between `start` and `now`: the history ends
    at `now`, and nothing may pile up on that instant (it would count as the live tail)."""
    return at if at < now else start + (now - start) * rng.random()


def seed(conn, *, reports: int, refs: dict, now: datetime) -> dict:
    """Write `reports` reports over the 90 days before `now`, and everything that follows
    from them; returns how many rows of each kind."""
    rng = random.Random(reports)
    platforms = refs["platforms"]
    window = HISTORY_DAYS * 24 * 3600
    accounts = []  # (id, platform, report times)
    report_id = account_id = 0
    while report_id < reports:
        account_id += 1
        k = min(1 + int(rng.expovariate(1 / 2.0)), reports - report_id)
        first = now - timedelta(seconds=rng.random() * window)
        times = sorted(
            _before(now, first, first + timedelta(hours=rng.expovariate(1 / 20)), rng)
            for _ in range(k - 1)
        )
        accounts.append((account_id, rng.choice(platforms), [first, *times]))
        report_id += k
    cases, decisions, approvals, requests = [], [], [], []
    for aid, platform, times in accounts:
        first = times[0]
        category = _pick(rng, CATEGORIES)
        age_h = (now - first).total_seconds() / 3600
        status, closed = "open", None
        if age_h > 24 and rng.random() < 0.97 or age_h > 2 and rng.random() < 0.5:
            decided = first + timedelta(hours=rng.lognormvariate(1.6, 0.9))
            decided = _before(now, first, decided, rng)
            moderator = rng.choice(refs["moderators"])
            outcome = _pick(rng, OUTCOMES)
            decisions.append((len(decisions) + 1, aid, moderator, outcome, category, decided))
            status = {"dismiss": "dismissed", "escalate": "escalated"}.get(outcome, "proposed")
            # A supervisor settles an escalation within a couple of days.
            if outcome == "escalate" and (now - decided).total_seconds() > 48 * 3600:
                status, closed = "dismissed", decided + timedelta(hours=30)
            if outcome == "dismiss":
                closed = decided
            if outcome == "propose_takedown" and decided + timedelta(hours=2) < now:
                approved = decided + timedelta(hours=rng.expovariate(1 / 1.5))
                approved = _before(now, decided, approved, rng)
                verdict = "approved" if rng.random() < 0.92 else "rejected"
                approvals.append(
                    (
                        len(approvals) + 1,
                        len(decisions),
                        moderator,
                        rng.choice(refs["supervisors"]),
                        verdict,
                        "",
                        approved,
                    )
                )
                if verdict == "approved":
                    status = "approved"
                    urgent = category in URGENT_CATEGORIES
                    roll = rng.random()
                    took = timedelta(hours=rng.lognormvariate(2.0, 1.0) * (0.3 if urgent else 1))
                    # Old requests are settled but for a few stuck ones (overdue).
                    settle = 0.98 if (now - approved).days > 7 else 0.92
                    rstatus, resolved = rng.choice(("pending", "sent", "acknowledged")), None
                    if roll < settle and approved + took < now:
                        rstatus = (
                            "taken_down" if roll < 0.85 else rng.choice(("refused", "not_found"))
                        )
                        resolved = approved + took
                        status, closed = "closed", resolved
                    request = (len(approvals), aid, aid, platform, category, approved)
                    requests.append(_request_row(*request, rstatus, resolved, rng))
                elif (now - approved).total_seconds() > 48 * 3600:
                    status, closed = "dismissed", approved + timedelta(hours=24)
                else:
                    status = "open"  # back in the queue with the supervisor's comment
        priority = rng.random() * 100
        cases.append((aid, status, category, len(times), first, times[-1], closed, priority, 2))
    rid = 0
    with conn.cursor() as cur:
        _copy(
            cur,
            "accounts_chataccount",
            ACCOUNT_COLUMNS,
            (_account_row(aid, p, times[0], times[-1]) for aid, p, times in accounts),
        )
        _copy(cur, "moderation_case", CASE_COLUMNS, (_case_row(*case) for case in cases))
        with cur.copy(f"COPY reports_report ({REPORT_COLUMNS}) FROM STDIN") as copy:
            for (aid, _platform, times), case in zip(accounts, cases, strict=True):
                for at in times:
                    rid += 1
                    copy.write_row(_report_row(rid, _pick(rng, SOURCES), refs, case[2], aid, at))
        _copy(
            cur,
            "moderation_decision",
            DECISION_COLUMNS,
            (
                (did, cid, moderator, outcome, category)
                + (refs["basis"] if outcome == "propose_takedown" else None, "normal")
                + ("Seen on the profile.", 1, at)
                for did, cid, moderator, outcome, category, at in decisions
            ),
        )
        _copy(cur, "moderation_approval", APPROVAL_COLUMNS, approvals)
        _copy(cur, "moderation_takedownrequest", REQUEST_COLUMNS, requests)
    conn.commit()
    return {
        "accounts": len(accounts),
        "reports": rid,
        "cases": len(cases),
        "decisions": len(decisions),
        "approvals": len(approvals),
        "requests": len(requests),
        "outcomes": sum(1 for row in requests if row[15] is not None),
    }


# --- One busy refresh interval -----------------------------------------------------------------


def tail_sizes(history: dict, *, interval: float, factor: float) -> dict:
    """How many of each kind one busy interval brings: the history's average per interval,
    times `factor`, at least one (so the live code path always has something to count)."""
    per_interval = interval / (HISTORY_DAYS * 24 * 3600)
    return {
        kind: max(1, math.ceil(history[kind] * per_interval * factor))
        for kind in ("reports", "decisions", "approvals", "outcomes")
    }


def tail_add(conn, *, sizes: dict, refs: dict, since: datetime, until: datetime) -> dict:
    """Write what happened in (since, until]: reports, decisions on open cases, approvals of
    waiting proposals with the takedown requests they issue, and operators' outcomes of
    earlier requests. Returns how many of each were written."""
    rng = random.Random(sizes["reports"])

    def moment(after: datetime = since) -> datetime:
        start = max(after, since)
        return start + timedelta(seconds=(until - start).total_seconds() * (1 - rng.random()))

    written = dict.fromkeys(("reports", "decisions", "approvals", "requests", "outcomes"), 0)
    with conn.cursor() as cur:

        def next_id(table: str) -> int:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
            return cur.fetchone()[0]

        # Reports: a third from accounts nobody reported before, the rest on open cases.
        new = max(1, sizes["reports"] // 3)
        cur.execute(
            "SELECT id, category FROM moderation_case WHERE status = 'open' "
            "ORDER BY opened_at DESC LIMIT %s",
            [sizes["reports"] - new],
        )
        joined = cur.fetchall()
        account_id, rid = next_id("accounts_chataccount"), next_id("reports_report")
        fresh = [
            (account_id + i, rng.choice(refs["platforms"]), moment(), _pick(rng, CATEGORIES))
            for i in range(new)
        ]
        _copy(
            cur,
            "accounts_chataccount",
            ACCOUNT_COLUMNS,
            (_account_row(aid, p, at, at) for aid, p, at, _category in fresh),
        )
        _copy(
            cur,
            "moderation_case",
            CASE_COLUMNS,
            (
                _case_row(aid, "open", cat, 1, at, at, None, rng.random() * 100, 1)
                for aid, _p, at, cat in fresh
            ),
        )
        rows = [(aid, cat, at) for aid, _p, at, cat in fresh]
        rows += [(cid, cat, moment()) for cid, cat in joined]
        _copy(
            cur,
            "reports_report",
            REPORT_COLUMNS,
            (
                _report_row(rid + n, _pick(rng, SOURCES), refs, category, cid, at)
                for n, (cid, category, at) in enumerate(rows)
            ),
        )
        cur.executemany(
            "UPDATE moderation_case SET report_count = report_count + 1, "
            "reporter_count = reporter_count + 1, last_report_at = %s WHERE id = %s",
            [(at, cid) for cid, _category, at in rows[new:]],
        )
        written["reports"] = len(rows)

        # Decisions on the open cases that have waited longest.
        cur.execute(
            "SELECT c.id, c.version, c.category FROM moderation_case c WHERE c.status = 'open' "
            "AND c.opened_at <= %s AND NOT EXISTS "
            "(SELECT 1 FROM moderation_decision d WHERE d.case_id = c.id) "
            "ORDER BY c.opened_at LIMIT %s",
            [since, sizes["decisions"]],
        )
        waiting = cur.fetchall()
        did = next_id("moderation_decision")
        decisions = []
        for n, (cid, version, category) in enumerate(waiting):
            outcome = _pick(rng, OUTCOMES)
            basis = refs["basis"] if outcome == "propose_takedown" else None
            moderator = rng.choice(refs["moderators"])
            decisions.append(
                (did + n, cid, moderator, outcome, category, basis, "normal")
                + ("Seen on the profile.", version, moment())
            )
        _copy(cur, "moderation_decision", DECISION_COLUMNS, decisions)
        status = {"dismiss": "dismissed", "escalate": "escalated", "propose_takedown": "proposed"}
        cur.executemany(
            "UPDATE moderation_case SET status = %s, version = version + 1, updated_at = %s, "
            "closed_at = CASE WHEN %s = 'dismissed' THEN %s::timestamptz END WHERE id = %s",
            [(status[d[3]], d[9], status[d[3]], d[9], d[1]) for d in decisions],
        )
        written["decisions"] = len(decisions)

        # Approvals of the proposals that have waited longest (the new ones included).
        cur.execute(
            "SELECT d.id, d.moderator_id, d.case_id, d.category, d.created_at, c.account_id, "
            "a.platform_id FROM moderation_decision d "
            "JOIN moderation_case c ON c.id = d.case_id "
            "JOIN accounts_chataccount a ON a.id = c.account_id "
            "WHERE c.status = 'proposed' AND d.outcome = 'propose_takedown' AND NOT EXISTS "
            "(SELECT 1 FROM moderation_approval p WHERE p.decision_id = d.id) "
            "ORDER BY d.created_at LIMIT %s",
            [sizes["approvals"]],
        )
        proposals = cur.fetchall()
        approval_id = next_id("moderation_approval")
        approvals, requests, cases = [], [], []
        for n, (decision, author, cid, category, decided, aid, platform) in enumerate(proposals):
            at = moment(after=decided)
            verdict = "approved" if rng.random() < 0.92 else "rejected"
            supervisor = rng.choice(refs["supervisors"])
            approvals.append((approval_id + n, decision, author, supervisor, verdict, "", at))
            cases.append(("approved" if verdict == "approved" else "open", at, cid))
            if verdict == "approved":
                sent = rng.choice(("sent", "sent", "acknowledged"))
                requests.append(
                    _request_row(approval_id + n, cid, aid, platform, category, at, sent, None, rng)
                )
        _copy(cur, "moderation_approval", APPROVAL_COLUMNS, approvals)
        _copy(cur, "moderation_takedownrequest", REQUEST_COLUMNS, requests)
        cur.executemany(
            "UPDATE moderation_case SET status = %s, version = version + 1, updated_at = %s "
            "WHERE id = %s",
            cases,
        )
        written["approvals"], written["requests"] = len(approvals), len(requests)

        # Operators' outcomes for requests issued before the interval.
        cur.execute(
            "SELECT id, case_id FROM moderation_takedownrequest WHERE status = ANY(%s) "
            "AND issued_at < %s ORDER BY issued_at DESC LIMIT %s",
            [list(UNCONFIRMED), since, sizes["outcomes"]],
        )
        outcomes = []
        for request_id, cid in cur.fetchall():
            result = "taken_down" if rng.random() < 0.92 else rng.choice(("refused", "not_found"))
            outcomes.append((result, moment(), request_id, cid))
        cur.executemany(
            "UPDATE moderation_takedownrequest SET status = %s, resolved_at = %s, "
            "updated_at = %s WHERE id = %s",
            [(result, at, at, request_id) for result, at, request_id, _cid in outcomes],
        )
        cur.executemany(
            "UPDATE moderation_case SET status = 'closed', closed_at = %s, "
            "version = version + 1, updated_at = %s WHERE id = %s",
            [(at, at, cid) for _result, at, _rid, cid in outcomes],
        )
        written["outcomes"] = len(outcomes)
    conn.commit()
    return written
