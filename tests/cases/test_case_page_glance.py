"""The case page at a glance (issue 16): the summary card, the folded reports list, direction
controls made visible, the links between the pages, and an account already taken down."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation.cases.glance import SUMMARY_EVIDENCE, account_taken_down, case_summary
from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    case_claim_open,
    case_decide,
)
from moderation.models import AuditEvent, Case, Decision
from reports.models import Evidence
from tests.support.factories import (
    CaseFactory,
    ChatAccountFactory,
    DecisionFactory,
    LegalBasisFactory,
    ReportFactory,
    SourceOrganisationFactory,
    TakedownRequestFactory,
)

pytestmark = pytest.mark.django_db

SPOOF = "\u202eexe.gnp"  # reads "png.exe"
OFFER = "Open BO Jaksel, tarif di bio"
VIDEO = "Jual video syur, DM untuk harga"


def evidence_on(report, *, deleted: bool = False) -> Evidence:
    return Evidence.objects.create(
        report=report,
        content_type="image/png",
        size=3,
        sha256="0" * 64,
        deleted_at=timezone.now() if deleted else None,
    )


def busy_case(*, reports: int = 78) -> Case:
    """A case with `reports` reports: 40 from the ministry, 20 from the police and the rest
    from the public; 50 say OFFER, 20 say VIDEO, the others each say something of their own;
    every second report has a picture."""
    case = CaseFactory(report_count=reports, reporter_count=31, priority=60)
    ministry = SourceOrganisationFactory(slug="kominfo", kind="ministry")
    police = SourceOrganisationFactory(slug="polri", kind="police")
    start = timezone.now() - timedelta(days=2)
    for n in range(reports):
        if n < 40:
            source = {"organisation": ministry}
        elif n < 60:
            source = {"organisation": police, "source_kind": "police"}
        else:
            source = {"organisation": None, "source_kind": "public", "external_reference": None}
        text = OFFER if n < 50 else VIDEO if n < 70 else f"Laporan warga nomor {n}"
        report = ReportFactory(
            case=case, description=text, received_at=start + timedelta(minutes=n), **source
        )
        if n % 2 == 0:
            evidence_on(report)
    return case


# --- The summary ----------------------------------------------------------------------------


def test_the_summary_counts_sources_texts_and_evidence_in_four_queries():
    case = busy_case()
    with CaptureQueriesContext(connection) as queries:
        summary = case_summary(case=case)
    assert len(queries) == 4
    assert [(s.kind, s.count) for s in summary.sources] == [
        ("ministry", 40),
        ("police", 20),
        ("public", 18),
    ]
    assert [str(s.label) for s in summary.sources] == ["Ministry", "Police", "Public"]
    assert summary.text_total == 10
    assert [(t.text, t.count) for t in summary.texts[:2]] == [(OFFER, 50), (VIDEO, 20)]
    assert len(summary.texts) == 8 and all(t.count == 1 for t in summary.texts[2:])
    assert summary.texts_more == 2
    assert summary.evidence_total == 39 and len(summary.evidence) == SUMMARY_EVIDENCE
    assert summary.evidence_more == 39 - SUMMARY_EVIDENCE


def test_the_case_page_costs_the_same_queries_for_78_reports_as_for_3(client_for, moderator):
    small, large = busy_case(reports=3), busy_case(reports=78)
    client = client_for(moderator)
    client.get(f"/cases/{small.pk}/")  # sessions, caches and the like warmed up
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/cases/{small.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/cases/{large.pk}/").status_code == 200
    assert len(many) == len(few)


def test_the_summary_card_shows_counts_texts_and_the_evidence_grid(client_for, moderator):
    case = busy_case()
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    card = html[html.index('id="summary"') : html.index('id="legal-hold"')]
    assert "78 reports" in card and "31 distinct reporters" in card
    assert re.search(r"<strong>40</strong> Ministry", card)
    assert re.search(r"<strong>20</strong> Police", card)
    assert re.search(r"<strong>18</strong> Public", card)
    assert "10 distinct report texts" in card
    assert "×50" in card and "×20" in card and OFFER in card
    assert "and 2 more texts" in card
    thumbs = re.findall(r'<button type="button" class="evidence-thumb [^"]*is-blurred', card)
    assert len(thumbs) == SUMMARY_EVIDENCE
    assert "and 15 more" in card
    # The summary comes before the decision form and the reports.
    assert html.index('id="summary"') < html.index('id="reports"')


def test_a_long_text_folds_and_deleted_evidence_shows_the_retention_placeholder(
    client_for, moderator
):
    case = CaseFactory(report_count=2)
    long_text = "Promo slot gacor " * 40
    evidence_on(ReportFactory(case=case, description=long_text), deleted=True)
    ReportFactory(case=case, description="Short")
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    card = html[html.index('id="summary"') : html.index('id="legal-hold"')]
    assert '<details class="text-fold"><summary><span class="summary-text"><bdi>Promo' in card
    assert '<span class="summary-text"><bdi>Short</bdi></span>' in card
    assert "Deleted under retention on" in card and "evidence-thumb" not in card


# --- The reports list ------------------------------------------------------------------------


def test_the_first_five_reports_are_open_and_the_rest_fold_away(client_for, moderator):
    case = busy_case(reports=12)
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    reports = html[html.index('id="reports"') : html.index('class="card notes"')]
    open_part, _, folded = reports.partition('<details class="more-reports">')
    assert open_part.count('<article class="report">') == 5
    assert "<summary>Show 7 more reports</summary>" in folded
    assert folded.count('<article class="report">') == 7
    assert folded.index("</details>") > folded.rindex('<article class="report">')


def test_a_case_of_five_reports_folds_nothing(client_for, moderator):
    case = busy_case(reports=5)
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    assert html.count('<article class="report">') == 5
    assert "more-reports" not in html


# --- Direction controls ------------------------------------------------------------------------


def render(template: str, **context) -> str:
    return Template("{% load saring_text %}" + template).render(Context(context))


def test_bidi_flag_replaces_each_control_with_a_marker_and_warns():
    html = render("{{ value|bidi_flag }}", value=SPOOF)
    assert "\u202e" not in html
    assert html == (
        '<bdi class="bidi-flagged"><span class="bidi-mark" title="U+202E">⟨RLO⟩</span>exe.gnp'
        '</bdi> <span class="badge bidi-warning" role="note">'
        "contains direction-control characters</span>"
    )


@pytest.mark.parametrize(
    ("char", "marker"),
    [
        ("\u202a", "LRE"),
        ("\u202b", "RLE"),
        ("\u202c", "PDF"),
        ("\u202d", "LRO"),
        ("\u2066", "LRI"),
        ("\u2067", "RLI"),
        ("\u2068", "FSI"),
        ("\u2069", "PDI"),
        ("\u200e", "LRM"),
        ("\u200f", "RLM"),
        ("\u061c", "ALM"),
    ],
)
def test_bidi_flag_knows_every_direction_control(char, marker):
    html = render("{{ value|bidi_flag }}", value=f"a{char}b")
    assert char not in html and f"⟨{marker}⟩" in html and "bidi-warning" in html


def test_bidi_flag_isolates_plain_text_escapes_it_and_adds_no_warning():
    assert render("{{ value|bidi_flag }}", value="<b>Sari</b>") == (
        "<bdi>&lt;b&gt;Sari&lt;/b&gt;</bdi>"
    )
    assert render("{{ value|bidi_flag:'text' }}", value=SPOOF) == "⟨RLO⟩exe.gnp"
    assert render("{{ value|bidi_flag|default:'—' }}", value="") == "—"


def test_the_case_page_flags_spoofed_identifiers_names_and_report_texts(client_for, moderator):
    account = ChatAccountFactory(identifier=f"sari{SPOOF}", display_name=f"Sari {SPOOF}")
    case = CaseFactory(account=account, report_count=1)
    ReportFactory(case=case, description=f"Lihat file {SPOOF} di profil")
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    assert "\u202e" not in html
    # The identifier, the display name, the report in the summary and in the list.
    assert html.count('<bdi class="bidi-flagged">') == 4
    assert html.count("contains direction-control characters") == 4


def test_the_account_timeline_flags_spoofed_values(client_for, moderator):
    account = ChatAccountFactory(identifier=f"sari{SPOOF}", display_name=f"Sari {SPOOF}")
    ReportFactory(case=CaseFactory(account=account))
    html = client_for(moderator).get(f"/accounts/{account.pk}/").content.decode()
    assert "\u202e" not in html
    assert "⟨RLO⟩" in html and "contains direction-control characters" in html


# --- Links between the pages -------------------------------------------------------------------


def test_the_case_page_links_its_account_and_for_a_supervisor_its_requests_and_approvals(
    client_for, moderator, supervisor
):
    request = TakedownRequestFactory(status="sent")
    case = request.case
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PROPOSED)
    as_supervisor = client_for(supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/accounts/{case.account_id}/"' in as_supervisor
    assert f'href="/takedowns/{request.pk}/"' in as_supervisor
    assert 'href="/approvals/"' in as_supervisor
    # A moderator reads no takedown requests and decides no approvals: no links there.
    as_moderator = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/accounts/{case.account_id}/"' in as_moderator
    assert "/takedowns/" not in as_moderator and 'href="/approvals/"' not in as_moderator
    assert "Takedown proposal awaits approval" in as_moderator


def test_approval_cards_and_takedown_rows_link_to_their_case(client_for, supervisor, moderator2):
    waiting = DecisionFactory(moderator=moderator2, case__status=Case.Status.PROPOSED)
    ReportFactory(case=waiting.case)
    request = TakedownRequestFactory(status="sent")
    client = client_for(supervisor)
    approvals = client.get("/approvals/").content.decode()
    assert f'<a href="/cases/{waiting.case_id}/">Case #{waiting.case_id}</a>' in approvals
    takedowns = client.get("/takedowns/").content.decode()
    assert f'<a href="/cases/{request.case_id}/">#{request.case_id}</a>' in takedowns


def test_the_account_timeline_links_its_cases(client_for, moderator):
    case = CaseFactory()
    ReportFactory(case=case)
    html = client_for(moderator).get(f"/accounts/{case.account_id}/").content.decode()
    assert f'<a href="/cases/{case.pk}/">' in html


# --- An account already taken down -------------------------------------------------------------


def taken_down_before() -> tuple[Case, object]:
    """An account whose earlier case ended in a confirmed takedown, and its new open case."""
    account = ChatAccountFactory()
    earlier = CaseFactory(account=account, status=Case.Status.CLOSED, closed_at=timezone.now())
    request = TakedownRequestFactory(
        approval__decision__case=earlier,
        status="taken_down",
        resolved_at=timezone.now() - timedelta(days=3),
    )
    case = CaseFactory(account=account, previous_case=earlier, report_count=1)
    ReportFactory(case=case)
    return case, request


def test_account_taken_down_finds_the_confirmed_request_of_an_earlier_case():
    case, request = taken_down_before()
    prior = account_taken_down(account=case.account, case_id=case.pk)
    assert prior is not None and prior.request == request
    assert prior.taken_down_at == request.resolved_at
    # The earlier case itself is not "already" taken down by its own request.
    assert account_taken_down(account=case.account, case_id=request.case_id) is None


def test_account_taken_down_also_reads_the_accounts_status():
    case = CaseFactory(account__status="taken_down")
    prior = account_taken_down(account=case.account, case_id=case.pk)
    assert prior is not None and prior.request is None
    assert account_taken_down(account=CaseFactory().account, case_id=0) is None


def test_the_case_page_warns_of_the_earlier_takedown_and_asks_why_again(
    client_for, moderator, supervisor
):
    case, request = taken_down_before()
    LegalBasisFactory()
    html = client_for(supervisor).get(f"/cases/{case.pk}/").content.decode()
    notice = html[html.index('id="taken-down"') : html.index('id="claim"')]
    assert "This account was already taken down on" in notice
    assert f'<a href="/takedowns/{request.pk}/">{str(request.pk)[:8]}</a>' in notice
    assert "A new takedown needs to say why again." in notice
    assert html.index('id="taken-down"') < html.index('id="summary"')
    case_claim_open(case_id=case.pk, moderator=moderator, version=case.version)
    mine = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    field = re.search(r'<textarea id="takedown-repeat-reason" name="repeat_reason"[^>]*>', mine)
    assert field is not None and " required" in field.group()
    assert "Why take it down again?" in mine


def test_a_case_of_an_account_never_taken_down_shows_no_notice_and_no_extra_field(
    client_for, moderator
):
    case = CaseFactory(report_count=1)
    ReportFactory(case=case)
    case_claim_open(case_id=case.pk, moderator=moderator, version=case.version)
    html = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="taken-down"' not in html and "repeat_reason" not in html


def propose(case: Case, moderator, **extra) -> Decision:
    claimed = case_claim_open(case_id=case.pk, moderator=moderator, version=case.version)
    return case_decide(
        case_id=case.pk,
        version=claimed.version,
        user=moderator,
        data=DecisionInput(
            outcome="propose_takedown",
            rationale="Price list for paid sex in the profile.",
            category="prostitution",
            legal_basis_id=LegalBasisFactory().pk,
            **extra,
        ),
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_service_refuses_a_repeat_takedown_without_a_reason(moderator, reason):
    case, _request = taken_down_before()
    with pytest.raises(CaseActionError, match="already taken down"):
        propose(case, moderator, repeat_reason=reason)
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW and not case.decisions.exists()
    assert not AuditEvent.objects.filter(action="decision.propose_takedown").exists()


def test_the_service_accepts_a_repeat_takedown_with_a_reason_and_records_it(moderator):
    case, request = taken_down_before()
    decision = propose(case, moderator, repeat_reason="The same profile is back under a new name.")
    assert decision.rationale == (
        "Price list for paid sex in the profile.\n\n"
        "Why take it down again? The same profile is back under a new name."
    )
    event = AuditEvent.objects.get(action="decision.propose_takedown")
    assert event.data["repeat_reason"] == "The same profile is back under a new name."
    assert event.data["already_taken_down"]["request"] == str(request.pk)


def test_a_first_takedown_needs_no_repeat_reason_and_records_none(moderator):
    case = CaseFactory()
    decision = propose(case, moderator)
    assert decision.rationale == "Price list for paid sex in the profile."
    event = AuditEvent.objects.get(action="decision.propose_takedown")
    assert "repeat_reason" not in event.data


def test_the_decide_form_passes_the_repeat_reason_to_the_service(client_for, moderator):
    case, _request = taken_down_before()
    basis = LegalBasisFactory()
    claimed = case_claim_open(case_id=case.pk, moderator=moderator, version=case.version)
    form = {
        "outcome": "propose_takedown",
        "version": claimed.version,
        "category": "prostitution",
        "legal_basis": basis.pk,
        "urgency": "normal",
        "rationale": "Price list.",
        "then": "queue",
    }
    client = client_for(moderator)
    refused = client.post(f"/cases/{case.pk}/decide/", form, follow=True)
    assert "This account was already taken down." in refused.content.decode()
    assert not case.decisions.exists()
    client.post(f"/cases/{case.pk}/decide/", {**form, "repeat_reason": "Back again."})
    assert case.decisions.get().rationale.endswith("Why take it down again? Back again.")
