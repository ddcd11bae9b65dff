"""Supervisors' approvals page: other people's takedown proposals, approve or reject."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from config.roles import Role
from moderation import takedown_selectors
from moderation.access import role_required
from moderation.services import takedowns
from moderation.services.audit import request_ip


class ApproveForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=2000)
    urgent = forms.BooleanField(
        label=gettext_lazy("Urgent: disturbs public order (4-hour deadline)"), required=False
    )


class RejectForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Why is it rejected?"), max_length=2000)


class BulkApproveForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000)

    def decision_ids(self) -> list[int]:
        return [int(v) for v in self.data.getlist("decision") if v.isdigit()]


@role_required(Role.SUPERVISOR)
def approvals(request: HttpRequest) -> HttpResponse:
    proposals = takedown_selectors.proposals_awaiting()
    return render(request, "moderation/approvals.html", {"proposals": proposals})


@require_POST
@role_required(Role.SUPERVISOR)
def approve(request: HttpRequest, decision_id: int) -> HttpResponse:
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The comment is too long."))
        return redirect("moderation:approvals")
    try:
        takedown = takedowns.proposal_approve(
            decision_id=decision_id,
            supervisor=request.user,
            comment=form.cleaned_data["comment"],
            marked_urgent=form.cleaned_data["urgent"],
            ip_address=request_ip(request),
        )
    except takedowns.ApprovalRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("Approved. Takedown request %(id)s is on its way to %(platform)s.")
            % {"id": takedown.pk, "platform": takedown.platform.name},
        )
    return redirect("moderation:approvals")


@require_POST
@role_required(Role.SUPERVISOR)
def reject(request: HttpRequest, decision_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the proposal is rejected: the moderator will read it."))
        return redirect("moderation:approvals")
    try:
        takedowns.proposal_reject(
            decision_id=decision_id,
            supervisor=request.user,
            comment=form.cleaned_data["comment"],
            ip_address=request_ip(request),
        )
    except takedowns.ApprovalRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Rejected. The case is back in the queue with your comment."))
    return redirect("moderation:approvals")


@require_POST
@role_required(Role.SUPERVISOR)
def bulk_approve(request: HttpRequest) -> HttpResponse:
    form = BulkApproveForm(request.POST)
    if not form.is_valid() or not form.decision_ids():
        messages.error(request, _("Select at least one proposal."))
        return redirect("moderation:approvals")
    result = takedowns.proposals_bulk_approve(
        decision_ids=form.decision_ids(),
        supervisor=request.user,
        comment=form.cleaned_data["comment"],
        ip_address=request_ip(request),
    )
    if result.approved:
        count = len(result.approved)
        messages.success(
            request,
            ngettext("%(count)d proposal approved.", "%(count)d proposals approved.", count)
            % {"count": count},
        )
    for decision_id, why in result.refused:
        messages.error(request, _("Proposal %(id)s: %(why)s") % {"id": decision_id, "why": why})
    return redirect("moderation:approvals")


urlpatterns = [
    path("approvals/", approvals, name="approvals"),
    path("approvals/bulk-approve/", bulk_approve, name="approvals_bulk_approve"),
    path("approvals/<int:decision_id>/approve/", approve, name="approval_approve"),
    path("approvals/<int:decision_id>/reject/", reject, name="approval_reject"),
]
