"""Bulk data for benchmarks: `manage.py seed_bulk --reports 1000000 --cases 300000`.

Rows go in with PostgreSQL COPY (psycopg 3 `cursor.copy`), not through the ORM, so a million
reports load in a minute or two. It appends to whatever is there (ids continue after the
highest), and the distribution follows the demo data: MiChat above all, prostitution the
most reported category, most cases with one or two reports and a long tail of accounts
reported again and again. Every case it makes is open, with its counters and priority set
as the intake service would set them.
"""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ChatAccount, Platform
from devtools.management.commands.seed_demo import (
    CATEGORY_WEIGHTS,
    CITIES,
    DESCRIPTIONS,
    NAMES,
)
from moderation.cases import case_priority
from moderation.models import Case
from reports.models import SourceOrganisation

PLATFORM_WEIGHTS = [("michat", 70), ("telegram", 18), ("whatsapp", 12)]
SOURCE_WEIGHTS = [("ministry", 55), ("police", 20), ("public", 25)]
TAGS = ["BO", "VIP", "Real", "24jam", "Manja", "Promo", "Jaksel", "Sange", ""]
MOBILE_PREFIXES = ["811", "812", "813", "821", "822", "852", "853", "857", "878", "896"]


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


def _copy(table: str, columns: list[str], rows) -> int:
    count = 0
    raw = connection.connection  # the psycopg 3 connection under Django's
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _reset_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )


class Command(BaseCommand):
    help = "Append many realistic open cases and reports quickly (COPY), for benchmarks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reports", type=int, default=1_000_000)
        parser.add_argument("--cases", type=int, default=300_000)
        parser.add_argument("--seed", type=int, default=4)

    def handle(self, *args, **options) -> None:
        reports, cases = options["reports"], options["cases"]
        if cases < 1 or reports < cases:
            raise CommandError("Need at least one case and at least one report per case.")
        rng = random.Random(options["seed"])
        started = time.monotonic()
        # Platforms, organisations and legal bases as in the demo (idempotent).
        call_command("seed_demo", reports=0, stdout=io.StringIO())
        with transaction.atomic():
            self._load(rng, cases=cases, reports=reports)
        with connection.cursor() as cursor:
            for table in ("accounts_chataccount", "moderation_case", "reports_report"):
                cursor.execute(f"ANALYZE {table}")
        self.stdout.write(
            f"Loaded {cases} open cases and {reports} reports in {time.monotonic() - started:.1f}s."
        )

    def _load(self, rng: random.Random, *, cases: int, reports: int) -> None:
        now = timezone.now()
        platforms = {p.slug: p.pk for p in Platform.objects.all()}
        orgs = {o.kind: o.pk for o in SourceOrganisation.objects.all()}
        categories = [c for c, _ in CATEGORY_WEIGHTS]
        category_weights = [w for _, w in CATEGORY_WEIGHTS]
        first_account = _next_id("accounts_chataccount")
        first_case = _next_id("moderation_case")
        first_report = _next_id("reports_report")

        # How many reports each case gets: one each, the rest on a long tail.
        per_case = [1] * cases
        for _ in range(reports - cases):
            index = min(int(rng.paretovariate(1.2)) - 1, cases - 1)
            per_case[rng.randrange(cases) if rng.random() < 0.7 else index] += 1

        accounts, case_rows, phones = [], [], []
        for n in range(cases):
            slug = rng.choices([p for p, _ in PLATFORM_WEIGHTS], [w for _, w in PLATFORM_WEIGHTS])[
                0
            ]
            account_id = first_account + n
            if slug == "whatsapp" or rng.random() < 0.45:
                kind = ChatAccount.IdentifierKind.PHONE
                identifier = f"+62{rng.choice(MOBILE_PREFIXES)}{account_id:08d}"
                numbers = [identifier]
                phones.append(identifier)
            else:
                kind = ChatAccount.IdentifierKind.HANDLE
                identifier = (
                    f"{rng.choice(NAMES).lower()}{rng.choice(['', '_', '.'])}"
                    f"{rng.choice(CITIES)}{account_id}"
                )
                # Some handle accounts give a phone number another account is known by.
                numbers = [rng.choice(phones)] if phones and rng.random() < 0.05 else []
            display = f"{rng.choice(NAMES)} {rng.choice(TAGS)}".strip()
            category = rng.choices(categories, category_weights)[0]
            opened = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
            accounts.append(
                (account_id, platforms[slug], identifier, kind, display, "", numbers, opened)
            )
            case_rows.append([first_case + n, account_id, category, opened, per_case[n]])

        self._copy_accounts(accounts, now)
        # Reports stream into COPY and leave a summary per case behind; the cases follow in
        # the same transaction (Django's foreign keys are checked at commit).
        summaries: list = []
        report_rows = self._reports(rng, case_rows, accounts, orgs, first_report, now, summaries)
        _copy(
            "reports_report",
            [
                "id",
                "source_kind",
                "organisation_id",
                "external_reference",
                "payload_hash",
                "category",
                "description",
                "content_urls",
                "account_identifier_submitted",
                "observed_at",
                "received_at",
                "urgent",
                "account_id",
                "case_id",
                "reporter_name",
                "reporter_email",
                "reporter_phone",
                "reporter_consent",
                "receipt_code",
            ],
            report_rows,
        )
        self._copy_cases(case_rows, summaries, now)
        for table in ("accounts_chataccount", "moderation_case", "reports_report"):
            _reset_sequence(table)

    def _copy_accounts(self, accounts, now) -> None:
        _copy(
            "accounts_chataccount",
            [
                "id",
                "platform_id",
                "identifier",
                "identifier_kind",
                "display_name",
                "profile_url",
                "phone_numbers",
                "status",
                "first_reported_at",
                "last_reported_at",
                "created_at",
                "updated_at",
            ],
            (
                (
                    aid,
                    pid,
                    ident,
                    kind,
                    display,
                    url,
                    numbers,
                    "under_review",
                    opened,
                    now,
                    now,
                    now,
                )
                for aid, pid, ident, kind, display, url, numbers, opened in accounts
            ),
        )

    def _reports(self, rng, case_rows, accounts, orgs, first_report, now, summaries):
        report_id = first_report
        for (case_id, account_id, category, opened, count), account in zip(
            case_rows, accounts, strict=True
        ):
            identifier = account[2]
            kinds, orgs_seen, public, urgent = set(), set(), 0, False
            span = max((now - opened).total_seconds(), 1)
            last = opened
            for i in range(count):
                source = rng.choices(
                    [s for s, _ in SOURCE_WEIGHTS], [w for _, w in SOURCE_WEIGHTS]
                )[0]
                received = opened if i == 0 else opened + timedelta(seconds=rng.random() * span)
                last = max(last, received)
                is_urgent = rng.random() < 0.03
                urgent = urgent or is_urgent
                kinds.add(source)
                org = None if source == "public" else orgs[source]
                if org:
                    orgs_seen.add(org)
                else:
                    public += 1
                yield (
                    report_id,
                    source,
                    org,
                    None if org is None else f"BULK-{report_id}",
                    "",
                    category,
                    rng.choice(DESCRIPTIONS[category]),
                    [],
                    identifier,
                    None,
                    received,
                    is_urgent,
                    account_id,
                    case_id,
                    "Warga" if org is None else "",
                    "",
                    "",
                    org is None,
                    f"BK{report_id:012d}",
                )
                report_id += 1
            summaries.append((kinds, len(orgs_seen) + public, urgent, last))

    def _copy_cases(self, case_rows, summaries, now) -> None:
        def rows():
            for (case_id, account_id, category, opened, count), summary in zip(
                case_rows, summaries, strict=True
            ):
                kinds, reporters, urgent, last = summary
                score, _parts = case_priority(
                    category=category,
                    source_kinds=kinds,
                    reporter_count=reporters,
                    urgent=urgent,
                    opened_at=opened,
                    now=now,
                )
                yield (
                    case_id,
                    account_id,
                    None,
                    Case.Status.OPEN,
                    category,
                    urgent,
                    count,
                    reporters,
                    ",".join(sorted(kinds)),
                    score,
                    opened,
                    last,
                    None,
                    None,
                    None,
                    1,
                    now,
                )

        _copy(
            "moderation_case",
            [
                "id",
                "account_id",
                "previous_case_id",
                "status",
                "category",
                "urgent",
                "report_count",
                "reporter_count",
                "source_kinds",
                "priority",
                "opened_at",
                "last_report_at",
                "closed_at",
                "claimed_by_id",
                "claim_expires_at",
                "version",
                "updated_at",
            ],
            rows(),
        )
