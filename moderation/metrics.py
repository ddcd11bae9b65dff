"""Saring's own metrics for Prometheus, read from the records (README "Operating Saring").

The records are the one source: whichever process answers a scrape (any gunicorn worker),
the figures are the same, they survive restarts, and the Celery worker, beat and the RQ
worker need no metrics port of their own. Counters (`*_total`) count rows that are never
deleted, so they only grow, as Prometheus expects. One reading is a handful of grouped
queries, each served by an index except the two intake and delivery totals; config/metrics.py
keeps a reading for METRICS_CACHE_SECONDS, so many scrapers cost one reading.

The rules come from where they live: a priority band from the cases area, an overdue request
and the outbox's lag from the takedowns area, the sealing backlog from the audit area.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, F, Min, Q, Value, When
from django.db.models.expressions import Case as Conditional
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from accounts.models import Platform
from moderation.audit import audit_sealing_backlog
from moderation.cases import PRIORITY_BANDS
from moderation.models import Case, DeliveryAttempt, Export, TakedownRequest
from moderation.takedowns import outbox_lag_seconds, overdue_filter
from reports.models import ImportJob, Report, SourceKind

# The queue's cases: waiting for a moderator's decision (open, or claimed and in review).
WAITING = ("open", "in_review")
STATUSES = TakedownRequest.Status.values


def _band() -> Conditional:
    """A case's priority band (PRIORITY_BANDS), in SQL."""
    *ranked, (lowest, _floor) = PRIORITY_BANDS
    return Conditional(
        *(When(priority__gte=floor, then=Value(name)) for name, floor in ranked),
        default=Value(lowest),
    )


def _cases(now: datetime) -> Iterator[Metric]:
    open_cases = GaugeMetricFamily(
        "saring_cases_open",
        "Cases not yet closed or dismissed, by priority band, category and status.",
        labels=["band", "category", "status"],
    )
    rows = (
        Case.objects.filter(status__in=Case.OPEN_STATUSES)
        .annotate(band=_band())
        .values("band", "category", "status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in rows:
        open_cases.add_metric([row["band"], row["category"], row["status"]], row["count"])
    yield open_cases

    waiting = Case.objects.filter(status__in=WAITING)
    figures = waiting.aggregate(
        unclaimed_urgent=Count(
            "pk",
            filter=Q(urgent=True) & (Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now)),
        ),
        oldest=Min("opened_at"),
    )
    yield GaugeMetricFamily(
        "saring_cases_unclaimed_urgent",
        "Urgent cases in the queue that nobody holds (unclaimed, or the claim has lapsed).",
        value=figures["unclaimed_urgent"],
    )
    oldest = figures["oldest"]
    yield GaugeMetricFamily(
        "saring_case_oldest_waiting_seconds",
        "How long the longest-waiting case in the queue has waited for a decision (0 when the"
        " queue is empty).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


def _takedowns(now: datetime) -> Iterator[Metric]:
    overdue = GaugeMetricFamily(
        "saring_takedowns_overdue",
        "Takedown requests past their deadline and not confirmed by the operator, by platform.",
        labels=["platform"],
    )
    by_status = GaugeMetricFamily(
        "saring_takedowns",
        "Takedown requests by platform and status (failed: dead-lettered, waiting for a"
        " supervisor).",
        labels=["platform", "status"],
    )
    rows = (
        TakedownRequest.objects.values(platform_slug=F("platform__slug"), state=F("status"))
        .annotate(count=Count("pk"), overdue=Count("pk", filter=overdue_filter(now)))
        .order_by()
    )
    counts = {(row["platform_slug"], row["state"]): row for row in rows}
    # Every platform has every series, zeros included: a chart or an alert sees 0, not
    # nothing, before a platform's first request.
    for slug in Platform.objects.order_by("slug").values_list("slug", flat=True):
        overdue.add_metric(
            [slug],
            sum(counts.get((slug, state), {}).get("overdue", 0) for state in STATUSES),
        )
        for state in STATUSES:
            by_status.add_metric([slug, state], counts.get((slug, state), {}).get("count", 0))
    yield overdue
    yield by_status

    yield GaugeMetricFamily(
        "saring_outbox_pending",
        "Takedown requests waiting to be sent (including those waiting for a retry).",
        value=TakedownRequest.objects.filter(status=TakedownRequest.Status.PENDING).count(),
    )
    yield GaugeMetricFamily(
        "saring_outbox_oldest_age_seconds",
        "How long the longest-waiting due takedown request has waited to be sent (the outbox's"
        " lag; 0 when none is due).",
        value=outbox_lag_seconds(now=now),
    )

    deliveries = CounterMetricFamily(
        "saring_deliveries",
        "Delivery attempts to operators, by platform and outcome.",
        labels=["platform", "outcome"],
    )
    attempts = (
        DeliveryAttempt.objects.values(
            platform_slug=F("request__platform__slug"), result=F("outcome")
        )
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in attempts:
        deliveries.add_metric([row["platform_slug"], row["result"]], row["count"])
    yield deliveries


def _intake_and_jobs() -> Iterator[Metric]:
    received = CounterMetricFamily(
        "saring_reports_received",
        "Reports received, by kind of source (ministry, police, agency, public).",
        labels=["source"],
    )
    counts = dict(Report.objects.values_list("source_kind").annotate(Count("pk")).order_by())
    for kind in SourceKind.values:
        received.add_metric([kind], counts.get(kind, 0))
    yield received

    jobs = GaugeMetricFamily(
        "saring_jobs",
        "Export and import jobs by state (queued, running, done, failed).",
        labels=["kind", "state"],
    )
    for kind, model in (("export", Export), ("import", ImportJob)):
        counts = dict(model.objects.values_list("status").annotate(Count("pk")).order_by())
        for state in model.Status.values:
            jobs.add_metric([kind, state], counts.get(state, 0))
    yield jobs


def _audit(now: datetime) -> Iterator[Metric]:
    backlog = audit_sealing_backlog(now=now)
    yield GaugeMetricFamily(
        "saring_audit_unsealed_events",
        "Audit events written and not yet sealed into the log's Merkle tree.",
        value=backlog.unsealed,
    )
    yield GaugeMetricFamily(
        "saring_audit_sealing_lag_seconds",
        "How long the oldest unsealed audit event has waited for the sequencer (0 when none"
        " waits).",
        value=backlog.oldest_seconds,
    )
    if backlog.checkpoint_seconds is not None:
        yield GaugeMetricFamily(
            "saring_audit_checkpoint_age_seconds",
            "Seconds since the audit log's latest signed checkpoint.",
            value=backlog.checkpoint_seconds,
        )


def saring_metrics(*, now: datetime) -> Iterator[Metric]:
    """Every metric read from the records, at `now`."""
    yield from _cases(now)
    yield from _takedowns(now)
    yield from _intake_and_jobs()
    yield from _audit(now)
