"""Retention's pages: the legal hold on the case page (supervisors) and the deletion batches
(auditors, and supervisors, who set the holds that keep things from them)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.http import client_ip, wants_partial
from config.roles import Role, role_required
from moderation.keyset import BadCursor
from moderation.models import Case
from moderation.retention import selectors
from moderation.retention.forms import LegalHoldForm
from moderation.retention.services import (
    LegalHoldRefused,
    case_legal_hold_clear,
    case_legal_hold_set,
)

BATCH_READERS = (Role.AUDITOR, Role.SUPERVISOR)


@require_POST
@role_required(Role.SUPERVISOR)
def legal_hold(request: HttpRequest, case_id: int) -> HttpResponse:
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the legal hold."))
        return redirect("moderation:case", case_id=case_id)
    change = case_legal_hold_set if form.cleaned_data["action"] == "set" else case_legal_hold_clear
    try:
        change(
            case_id=case_id,
            supervisor=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=client_ip(request),
        )
    except Case.DoesNotExist:
        raise Http404 from None
    except LegalHoldRefused as error:
        messages.error(request, str(error))
    else:
        if form.cleaned_data["action"] == "set":
            messages.success(request, _("The case is under a legal hold."))
        else:
            messages.success(request, _("The legal hold was cleared."))
    return redirect("moderation:case", case_id=case_id)


@require_GET
@role_required(*BATCH_READERS)
def batches(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor", "")
    try:
        page = selectors.retention_batches_page(cursor=cursor)
    except BadCursor:
        raise Http404 from None
    template = "moderation/retention/batches.html"
    if cursor and wants_partial(request):
        template += "#rows"
    return render(request, template, {"page": page})


@require_GET
@role_required(*BATCH_READERS)
def batch(request: HttpRequest, sequence: int) -> HttpResponse:
    event = selectors.retention_batch(sequence=sequence)
    if event is None:
        raise Http404
    # Evidence batches list their evidence ids, objection picture batches their pictures' ids.
    ids = event.data.get("evidence") or event.data.get("attachments") or []
    hashes = zip(ids, event.data.get("sha256", []), strict=False)
    context = {"event": event, "evidence_hashes": list(hashes)}
    return render(request, "moderation/retention/batch.html", context)


urlpatterns = [
    path("cases/<int:case_id>/legal-hold/", legal_hold, name="case_legal_hold"),
    path("retention/", batches, name="retention_batches"),
    path("retention/<int:sequence>/", batch, name="retention_batch"),
]
