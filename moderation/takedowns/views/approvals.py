"""Supervisors' approvals page: other people's takedown proposals, approve or reject."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.http import client_ip
from config.roles import Role, role_required
from moderation.access import may_open_case
from moderation.cases import evidence_settings_for
from moderation.takedowns import selectors, services
from moderation.takedowns.forms import ApproveForm, BulkApproveForm, RejectForm


@require_GET
@role_required(Role.SUPERVISOR)
def approvals(request: HttpRequest) -> HttpResponse:
    proposals = selectors.proposals_awaiting()
    for decision in proposals:  # a restricted case's reports and evidence: specialists only
        decision.readable = may_open_case(request.user, decision.case)
    context = {
        "proposals": proposals,
        # A ring's batch of proposals under one heading (issue 17), each decided on its own.
        "groups": selectors.proposals_grouped(proposals),
        "evidence_look": evidence_settings_for(request.user),
    }
    return render(request, "moderation/takedowns/approvals.html", context)


@require_POST
@role_required(Role.SUPERVISOR)
def approve(request: HttpRequest, decision_id: int) -> HttpResponse:
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The comment is too long."))
        return redirect("moderation:approvals")
    try:
        takedown = services.proposal_approve(
            decision_id=decision_id,
            supervisor=request.user,
            comment=form.cleaned_data["comment"],
            marked_urgent=form.cleaned_data["urgent"],
            ip_address=client_ip(request),
        )
    except services.ApprovalRefused as refusal:
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
        services.proposal_reject(
            decision_id=decision_id,
            supervisor=request.user,
            comment=form.cleaned_data["comment"],
            ip_address=client_ip(request),
        )
    except services.ApprovalRefused as refusal:
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
    result = services.proposals_bulk_approve(
        decision_ids=form.decision_ids(),
        supervisor=request.user,
        comment=form.cleaned_data["comment"],
        ip_address=client_ip(request),
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
