"""Receiving reports: parse and check one submitted report, then land a batch of them
exactly once, on the right chat account, in the right case (DESIGN.md "Intake API").

The API (single and batch), the public form, the CSV import and the demo data all come
through `reports_receive`, so every report gets the same checks and the same audit event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.categories import Category
from accounts.identifiers import (
    Identifier,
    IdentifierError,
    normalise_identifier,
    phones_in_text,
)
from accounts.models import Platform
from accounts.services import AccountSighting, chat_accounts_resolve
from config.recordset import Recordset
from moderation.audit import Actor, AuditEntry, audit_record_many
from moderation.cases import CaseSeed, cases_open_for, cases_refresh
from reports.models import Report, SourceKind, SourceOrganisation
from reports.services import receipt_code_new

MAX_BATCH = 500
MAX_DESCRIPTION = 10_000
MAX_REFERENCE = 200
MAX_CONTENT_URLS = 20
MAX_URL = 2000
_CATEGORIES = frozenset(Category.values)


def clean_text(value: str) -> str:
    """PostgreSQL refuses NUL in text; nobody means one, so it goes."""
    return value.replace("\x00", "")


class ReportInvalid(Exception):
    """The submitted report cannot be accepted; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid report")
        self.errors = errors


@dataclass
class ReportInput:
    """One checked report, ready to be received."""

    platform: Platform
    identifier: Identifier
    identifier_submitted: str
    category: str
    description: str
    external_reference: str | None = None
    display_name: str = ""
    profile_url: str = ""
    content_urls: list[str] = field(default_factory=list)
    observed_at: datetime | None = None
    urgent: bool = False
    payload_hash: str = ""
    reporter_name: str = ""
    reporter_email: str = ""
    reporter_phone: str = ""
    reporter_consent: bool = False
    reporter_key: str = ""  # public reports: reports.services.public.reporter_key
    received_at: datetime | None = None  # only the demo data sets it; otherwise "now"


@dataclass
class Outcome:
    """What became of one submitted report: "created", "duplicate" (the same body again:
    the original) or "conflict" (the same reference with a different body)."""

    status: str
    report: Report
    case_opened: bool = False
    case_status: str = ""  # the case's status when the report was received or found


def payload_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def platforms_by_slug() -> dict[str, Platform]:
    return {p.slug: p for p in Platform.objects.filter(active=True)}


def _text(
    data: dict,
    name: str,
    errors: dict,
    *,
    required: bool = False,
    max_length: int,
    label: str | None = None,
) -> str:
    label = label or name
    value = data.get(name)
    if value is None:
        if required:
            errors.setdefault(label, []).append("This field is required.")
        return ""
    if not isinstance(value, str):
        errors.setdefault(label, []).append("Must be a string.")
        return ""
    value = clean_text(value).strip()
    if required and not value:
        errors.setdefault(label, []).append("This field may not be blank.")
    elif len(value) > max_length:
        errors.setdefault(label, []).append(
            f"Ensure this field has no more than {max_length} characters (it has {len(value)})."
        )
    return value


def report_input_parse(
    data: Any,
    *,
    platforms: dict[str, Platform],
    organisation: SourceOrganisation | None,
) -> ReportInput:
    """Check one submitted report (the JSON of DESIGN.md "Intake API"); raise ReportInvalid
    with every field's problems at once."""
    if not isinstance(data, dict):
        raise ReportInvalid({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    reference = _text(
        data,
        "external_reference",
        errors,
        required=organisation is not None,
        max_length=MAX_REFERENCE,
    )
    slug = data.get("platform")
    platform = platforms.get(slug) if isinstance(slug, str) else None
    if slug is None:
        errors["platform"] = ["This field is required."]
    elif platform is None:
        errors["platform"] = [
            f"Unknown platform {str(slug)[:60]!r}; known: {', '.join(sorted(platforms))}."
        ]
    category = data.get("category")
    if category is None:
        errors["category"] = ["This field is required."]
    elif not isinstance(category, str) or category not in _CATEGORIES:
        errors["category"] = [
            f"Unknown category {str(category)[:60]!r}; known: {', '.join(sorted(_CATEGORIES))}."
        ]
    description = _text(data, "description", errors, required=True, max_length=MAX_DESCRIPTION)

    account = data.get("account")
    identifier_raw = display_name = profile_url = ""
    identifier = None
    if not isinstance(account, dict):
        errors["account"] = ["This field is required and must be an object with an identifier."]
    else:
        identifier_raw = _text(
            account, "identifier", errors, max_length=1000, label="account.identifier"
        )
        display_name = _text(
            account, "display_name", errors, max_length=255, label="account.display_name"
        )
        profile_url = _text(
            account, "profile_url", errors, max_length=1000, label="account.profile_url"
        )
        if profile_url and urlsplit(profile_url).scheme not in ("http", "https"):
            errors.setdefault("account.profile_url", []).append("Must be an http(s) URL.")
        source = identifier_raw or profile_url
        if not source and "account.identifier" not in errors:
            errors["account.identifier"] = ["This field is required."]
        elif platform is not None and "account.identifier" not in errors:
            try:
                identifier = normalise_identifier(
                    source, profile_url_pattern=platform.profile_url_pattern
                )
            except IdentifierError as exc:
                errors["account.identifier"] = [str(exc)]

    urls = data.get("content_urls", [])
    content_urls: list[str] = []
    if urls is None:
        urls = []
    if not isinstance(urls, list):
        errors["content_urls"] = ["Must be a list of URLs."]
    elif len(urls) > MAX_CONTENT_URLS:
        errors["content_urls"] = [f"At most {MAX_CONTENT_URLS} URLs."]
    else:
        for url in urls:
            if (
                not isinstance(url, str)
                or len(url) > MAX_URL
                or urlsplit(clean_text(url).strip()).scheme not in ("http", "https")
            ):
                errors["content_urls"] = ["Every item must be an http(s) URL."]
                break
            content_urls.append(clean_text(url).strip())

    observed_at = None
    observed = data.get("observed_at")
    if observed is not None:
        try:
            parsed = parse_datetime(observed) if isinstance(observed, str) else None
        except ValueError:  # well formed but impossible, e.g. month 13
            parsed = None
        if parsed is None:
            errors["observed_at"] = ["Must be an ISO 8601 date and time."]
        else:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            if parsed > timezone.now() + timedelta(days=1):
                errors["observed_at"] = ["Lies in the future."]
            observed_at = parsed
    urgent = data.get("urgent", False)
    if not isinstance(urgent, bool):
        errors["urgent"] = ["Must be true or false."]

    if errors:
        raise ReportInvalid(errors)
    assert platform is not None and identifier is not None and isinstance(category, str)
    return ReportInput(
        platform=platform,
        identifier=identifier,
        identifier_submitted=(identifier_raw or profile_url)[:1000],
        category=category,
        description=description,
        external_reference=reference or None,
        display_name=display_name,
        profile_url=profile_url,
        content_urls=content_urls,
        observed_at=observed_at,
        urgent=urgent,
        payload_hash=payload_hash(data),
    )


def reports_receive(
    *,
    inputs: list[ReportInput],
    organisation: SourceOrganisation | None,
    actor: Actor,
    ip_address: str | None = None,
    source_kind: str | None = None,
) -> list[Outcome]:
    """Land the reports, in one transaction: one outcome per input, in order.

    A report whose external reference this organisation already used is not stored again:
    the same body gives the original ("duplicate"), another body a "conflict". Two callers
    racing with the same reference both insert; the unique index lets one win, the other's
    transaction rolls back and is retried, and the retry finds the winner's report. A
    deadlock PostgreSQL broke (two batches locking shared accounts) is retried the same way.
    """
    if source_kind is None:
        source_kind = organisation.kind if organisation is not None else SourceKind.PUBLIC
    for attempt in range(4):
        try:
            with transaction.atomic():
                return _receive(
                    inputs=inputs,
                    organisation=organisation,
                    actor=actor,
                    ip_address=ip_address,
                    source_kind=source_kind,
                )
        except (IntegrityError, OperationalError) as error:
            # A concurrent caller took one of our external references (or, once in a
            # blue moon, a receipt code), or PostgreSQL chose us to break a deadlock: start
            # again from what is committed now.
            retryable = isinstance(error, IntegrityError) or _is_deadlock(error)
            if attempt == 3 or not retryable:
                raise
    raise AssertionError("unreachable")


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "40P01"  # deadlock_detected


def _receive(
    *,
    inputs: list[ReportInput],
    organisation: SourceOrganisation | None,
    actor: Actor,
    ip_address: str | None,
    source_kind: str,
) -> list[Outcome]:
    now = timezone.now()
    existing: dict[str | None, Report] = {}
    if organisation is not None:
        references = [i.external_reference for i in inputs if i.external_reference]
        if references:
            existing = {
                r.external_reference: r
                for r in Report.objects.select_related("case").filter(
                    organisation=organisation, external_reference__in=references
                )
            }
    outcomes: list[Outcome | None] = [None] * len(inputs)
    fresh: list[tuple[int, ReportInput]] = []
    first_in_batch: dict[str, tuple[int, ReportInput]] = {}
    repeats: list[tuple[int, ReportInput, int]] = []
    for index, item in enumerate(inputs):
        ref = item.external_reference if organisation is not None else None
        if ref and ref in existing:
            original = existing[ref]
            same = original.payload_hash == item.payload_hash
            outcomes[index] = Outcome(
                "duplicate" if same else "conflict", original, case_status=original.case.status
            )
        elif ref and ref in first_in_batch:
            repeats.append((index, item, first_in_batch[ref][0]))
        else:
            if ref:
                first_in_batch[ref] = (index, item)
            fresh.append((index, item))

    if fresh:
        sightings = [
            AccountSighting(
                platform_id=item.platform.pk,
                identifier=item.identifier,
                seen_at=item.received_at or now,
                display_name=item.display_name,
                profile_url=item.profile_url,
                phones_found=phones_in_text(f"{item.display_name}\n{item.description}"),
            )
            for _, item in fresh
        ]
        accounts = chat_accounts_resolve(sightings=sightings)
        account_of = [accounts[s.key] for s in sightings]
        seeds: dict[int, CaseSeed] = {}
        for (_, item), account in zip(fresh, account_of, strict=True):
            at = item.received_at or now
            if account.pk not in seeds or at < seeds[account.pk].received_at:
                seeds[account.pk] = CaseSeed(category=item.category, received_at=at)
        distinct_accounts = list({a.pk: a for a in account_of}.values())
        cases, opened = cases_open_for(accounts=distinct_accounts, seeds=seeds)
        reports = [
            Report(
                source_kind=source_kind,
                organisation=organisation,
                external_reference=item.external_reference if organisation else None,
                payload_hash=item.payload_hash,
                category=item.category,
                description=item.description,
                content_urls=item.content_urls,
                account_identifier_submitted=item.identifier_submitted,
                observed_at=item.observed_at,
                received_at=item.received_at or now,
                urgent=item.urgent,
                account_id=account.pk,
                case_id=cases[account.pk].id,
                reporter_name=item.reporter_name,
                reporter_email=item.reporter_email,
                reporter_phone=item.reporter_phone,
                reporter_consent=item.reporter_consent,
                reporter_key=item.reporter_key,
                receipt_code=receipt_code_new(),
            )
            for (_, item), account in zip(fresh, account_of, strict=True)
        ]
        _reports_insert(reports)
        cases_refresh(case_ids=[ref.id for ref in cases.values()], now=now)
        entries: list[AuditEntry] = []
        case_opened: list[bool] = []  # per report: the first report of a case opened now
        opened_flags: set[int] = set()
        for (_, item), report in zip(fresh, reports, strict=True):
            case_opened.append(report.case_id in opened and report.case_id not in opened_flags)
            opened_flags.add(report.case_id)
            entries.append(
                AuditEntry(
                    actor=actor,
                    action="report.received",
                    subject_type="reports.report",
                    subject_id=str(report.pk),
                    subject_label=(
                        f"{report.receipt_code} on {item.platform.slug}:{item.identifier.value}"
                    ),
                    data={
                        "after": {
                            "source_kind": report.source_kind,
                            "external_reference": report.external_reference,
                            "category": report.category,
                            "account": report.account_id,
                            "case": report.case_id,
                            "case_opened": case_opened[-1],
                        }
                    },
                    ip_address=ip_address,
                )
            )
        audit_record_many(entries=entries)
        status_of_case = {ref.id: ref.status for ref in cases.values()}
        for (index, _), report, opened_now in zip(fresh, reports, case_opened, strict=True):
            outcomes[index] = Outcome("created", report, opened_now, status_of_case[report.case_id])

    for index, item, first_index in repeats:
        first = outcomes[first_index]
        assert first is not None
        same = first.report.payload_hash == item.payload_hash
        outcomes[index] = Outcome(
            "duplicate" if same else "conflict", first.report, case_status=first.case_status
        )
    return [outcome for outcome in outcomes if outcome is not None]


_REPORTS = Recordset(
    (
        ("source_kind", "text"),
        ("organisation_id", "bigint"),
        ("external_reference", "text"),
        ("payload_hash", "text"),
        ("category", "text"),
        ("description", "text"),
        ("content_urls", "jsonb"),
        ("account_identifier_submitted", "text"),
        ("observed_at", "timestamptz"),
        ("received_at", "timestamptz"),
        ("urgent", "bool"),
        ("account_id", "bigint"),
        ("case_id", "bigint"),
        ("reporter_name", "text"),
        ("reporter_email", "text"),
        ("reporter_phone", "text"),
        ("reporter_consent", "bool"),
        ("reporter_key", "text"),
        ("receipt_code", "text"),
    )
)
_REPORTS_INSERT = _REPORTS.insert_sql(
    "reports_report",
    values={"content_urls": "ARRAY(SELECT jsonb_array_elements_text(v.content_urls))"},
    returning="id, receipt_code",
)


def _reports_insert(reports: list[Report]) -> None:
    """One INSERT for the whole batch (see config.recordset); sets each report's id."""
    rows = _REPORTS.rows({name: getattr(r, name) for name in _REPORTS.names} for r in reports)
    with connection.cursor() as cursor:
        cursor.execute(_REPORTS_INSERT, [rows])
        ids = dict((code, pk) for pk, code in cursor.fetchall())
    for report in reports:
        report.pk = ids[report.receipt_code]
        report._state.adding = False
        report._state.db = "default"
