"""Reads for the case page at a glance (issue 16): the summary card at its top (reports by
source, the distinct report texts, the case's evidence) and whether the case's account was
already taken down, which both the page and the decision service ask here.

The summary is aggregates in SQL, four queries whatever the number of reports: a case with
thousands of reports costs what one with three costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max
from django.utils.functional import Promise

from accounts.models import ChatAccount
from moderation.models import Case, TakedownRequest
from moderation.rings import takedowns_confirmed
from reports.models import Evidence, Report, SourceKind

StrOrPromise = str | Promise

# The most frequent texts shown, and the evidence pictures in the grid ("and N more").
SUMMARY_TEXTS = 8
SUMMARY_EVIDENCE = 24
# A text longer than this, or of several lines, folds to its first two lines.
TEXT_FOLD_CHARS = 160


@dataclass(frozen=True)
class SourceCount:
    kind: str
    label: StrOrPromise  # translated when the page is drawn
    count: int


@dataclass(frozen=True)
class TextCount:
    text: str  # "" for reports that came without one
    count: int

    @property
    def folds(self) -> bool:
        return len(self.text) > TEXT_FOLD_CHARS or "\n" in self.text.strip()


@dataclass(frozen=True)
class CaseSummary:
    sources: list[SourceCount]
    texts: list[TextCount]  # the most frequent first, at most SUMMARY_TEXTS
    text_total: int  # distinct texts in all
    evidence: list[Evidence]  # the first SUMMARY_EVIDENCE
    evidence_total: int

    @property
    def texts_more(self) -> int:
        return self.text_total - len(self.texts)

    @property
    def evidence_more(self) -> int:
        return self.evidence_total - len(self.evidence)


def case_summary(*, case: Case) -> CaseSummary:
    """The case's reports by source, its distinct texts with how often each came, and its
    evidence (all the case's reports'), in four queries."""
    reports = Report.objects.filter(case=case)
    labels = dict(SourceKind.choices)
    sources = [
        SourceCount(kind, labels.get(kind, kind), n)
        for kind, n in reports.values("source_kind")
        .annotate(n=Count("pk"))
        .order_by("-n", "source_kind")
        .values_list("source_kind", "n")
    ]
    totals = reports.aggregate(
        texts=Count("description", distinct=True), evidence=Count("evidence__pk")
    )
    texts = [
        TextCount(row["description"], row["n"])
        for row in reports.values("description")
        .annotate(n=Count("pk"), latest=Max("received_at"))
        .order_by("-n", "-latest")[:SUMMARY_TEXTS]
    ]
    evidence = list(Evidence.objects.filter(report__case=case).order_by("pk")[:SUMMARY_EVIDENCE])
    return CaseSummary(
        sources=sources,
        texts=texts,
        text_total=totals["texts"],
        evidence=evidence,
        evidence_total=totals["evidence"],
    )


@dataclass(frozen=True)
class PriorTakedown:
    """The account was taken down before: when, and by which request (None when only the
    account's status says so)."""

    taken_down_at: datetime | None
    request: TakedownRequest | None


def account_taken_down(*, account: ChatAccount, case_id: int) -> PriorTakedown | None:
    """Whether the account of case `case_id` was already taken down: an operator confirmed a
    takedown request of another case of the account (`takedowns_confirmed`, the one rule,
    which returning accounts follow too), or the account's status says it is taken down. A
    new takedown of such an account must say why again (`case_decide`)."""
    request = (
        takedowns_confirmed()
        .filter(account_id=account.pk)
        .exclude(case_id=case_id)
        .order_by(F("resolved_at").desc(nulls_last=True), "-issued_at")
        .first()
    )
    if request is not None:
        return PriorTakedown(request.resolved_at or request.updated_at, request)
    if account.status == ChatAccount.Status.TAKEN_DOWN:
        return PriorTakedown(None, None)
    return None
