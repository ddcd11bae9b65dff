"""Acting on a ring from the case page's ring card (issue 17): takedown proposals for several of
the ring's cases in one step, one decision per case sharing one batch id."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from config.http import client_ip
from moderation.access import REVIEWERS, case_content_required, role_required
from moderation.cases.forms import RingProposalForm
from moderation.cases.services import (
    CaseActionError,
    DecisionInput,
    cases_propose_batch,
)
from moderation.models import Case, Decision
from moderation.rings import ring_case_ids


@require_POST
@role_required(*REVIEWERS)
@case_content_required
def ring_propose(request: HttpRequest, case_id: int) -> HttpResponse:
    case = Case.objects.select_related("account").filter(pk=case_id).first()
    if case is None:
        raise Http404
    back = reverse("moderation:case", kwargs={"case_id": case_id}) + "#ring"
    form = RingProposalForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Tick the cases and fill in the category, legal basis and rationale: %(errors)s")
            % {"errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())},
        )
        return redirect(back)
    data = form.cleaned_data
    try:
        batch = cases_propose_batch(
            case_versions=form.case_versions(),
            user=request.user,
            data=DecisionInput(
                outcome=Decision.Outcome.PROPOSE_TAKEDOWN,
                rationale=data["rationale"],
                category=data["category"],
                legal_basis_id=data["legal_basis"],
                urgency=data["urgency"] or "normal",
                repeat_reason=data["repeat_reason"] or "",
            ),
            allowed_case_ids=ring_case_ids(case=case),
            ip_address=client_ip(request),
        )
    except CaseActionError as error:
        messages.error(request, str(error))
        return redirect(back)
    if batch.proposed:
        count = len(batch.proposed)
        messages.success(
            request,
            ngettext(
                "Takedown proposed on %(count)d case (%(ids)s) in ring batch %(batch)s; "
                "it awaits a supervisor’s approval.",
                "Takedowns proposed on %(count)d cases (%(ids)s) in ring batch %(batch)s; "
                "each awaits a supervisor’s approval.",
                count,
            )
            % {
                "count": count,
                "ids": ", ".join(f"#{pk}" for pk in batch.proposed),
                "batch": str(batch.batch_id)[:8],
            },
        )
    for refused_id, why in batch.refused:
        messages.error(
            request, _("Case #%(id)d was not proposed: %(why)s") % {"id": refused_id, "why": why}
        )
    return redirect(back)


urlpatterns = [
    path("cases/<int:case_id>/ring/propose/", ring_propose, name="case_ring_propose"),
]
