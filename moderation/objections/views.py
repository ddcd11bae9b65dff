"""The supervisors' objection pages (issue 18): the queue, one objection beside the takedown it
objects to, the decision and the owner's pictures (the restore request's retry and cancel are
the takedowns area's).
Supervisors decide and act; auditors read (contact details masked)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config.http import client_ip
from config.roles import Role, role_required
from moderation.access import (
    OBJECTION_READERS,
    can_see_content,
    can_supervise,
    objection_contact_for,
)
from moderation.cases import evidence_settings_for
from moderation.keyset import BadCursor
from moderation.models import Objection, ObjectionAttachment
from moderation.objections import selectors
from moderation.objections.forms import ObjectionDecideForm, ObjectionFilterForm
from moderation.objections.services import ObjectionRefused, objection_decide, objection_refusal

RESTRICTED_PICTURES = gettext_lazy(
    "A restricted category (child sexual abuse material or terrorism): the case's evidence and "
    "the owner's pictures are for people in the Specialist role."
)
# Where a refused decision keeps what the supervisor typed, for the page to offer it again.
DRAFT_KEY = "objection-reason-draft-%d"


@require_GET
@role_required(*OBJECTION_READERS)
def objection_queue(request: HttpRequest) -> HttpResponse:
    form = ObjectionFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    show = form.show_value()
    try:
        page = selectors.objection_page(show=show, cursor=request.GET.get("after", ""))
    except BadCursor:
        messages.error(request, _("That page link is broken; showing the first page."))
        page = selectors.objection_page(show=show)
    context = {"form": form, "page": page, "counts": selectors.objections_awaiting_counts()}
    return render(request, "moderation/objections/queue.html", context)


@require_GET
@role_required(*OBJECTION_READERS)
def objection_detail(request: HttpRequest, objection_id: int) -> HttpResponse:
    objection = selectors.objection_detail(objection_id=objection_id)
    if objection is None:
        raise Http404
    pictures_readable = can_see_content(request.user, objection.takedown.category)
    evidence, more_evidence = (
        selectors.case_evidence(case_id=objection.case_id) if pictures_readable else ([], False)
    )
    draft = request.session.pop(DRAFT_KEY % objection.pk, None) or {}
    context = {
        "objection": objection,
        "restore": getattr(objection, "restore_request", None),
        "contact": objection_contact_for(request.user, objection),
        "refusal": objection_refusal(objection=objection, user=request.user),
        "form": ObjectionDecideForm(initial=draft),
        "can_act": can_supervise(request.user),
        "pictures_readable": pictures_readable,
        "restricted_message": RESTRICTED_PICTURES,
        "evidence": evidence,
        "more_evidence": more_evidence,
        "evidence_look": evidence_settings_for(request.user),
        "further_statements": selectors.further_statements(objection),
        "is_overdue": selectors.is_overdue(objection),
        "in_time": objection.decided_at is not None and objection.decided_at <= objection.deadline,
    }
    return render(request, "moderation/objections/detail.html", context)


@require_POST
@role_required(Role.SUPERVISOR)
def decide(request: HttpRequest, objection_id: int) -> HttpResponse:
    form = ObjectionDecideForm(request.POST)
    try:
        if not form.is_valid():
            raise ObjectionRefused(" ".join(e for errors in form.errors.values() for e in errors))
        objection = objection_decide(
            objection_id=objection_id,
            supervisor=request.user,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
            ip_address=client_ip(request),
        )
    except ObjectionRefused as refusal:
        messages.error(request, str(refusal))
        if Objection.objects.filter(pk=objection_id).exists():
            request.session[DRAFT_KEY % objection_id] = {
                "outcome": request.POST.get("outcome", "")[:10],
                "reason": request.POST.get("reason", "")[:10_000],
            }
            return redirect("moderation:objection_detail", objection_id=objection_id)
        return redirect("moderation:objections")
    if objection.status == Objection.Status.GRANTED:
        messages.success(
            request,
            _("Objection %(code)s granted: a restore request is on its way to %(platform)s.")
            % {"code": objection.receipt_code, "platform": objection.takedown.platform.name},
        )
    else:
        messages.success(
            request,
            _("Objection %(code)s upheld: the takedown stands.") % {"code": objection.receipt_code},
        )
    return redirect("moderation:objection_detail", objection_id=objection_id)


@require_GET
@role_required(*OBJECTION_READERS)
def attachment_file(request: HttpRequest, pk: int) -> HttpResponse:
    """An owner's picture, served as evidence is: never executable, never rendered as HTML,
    never cached. Always an image (checked and re-encoded on receipt), so always inline."""
    attachment = get_object_or_404(
        ObjectionAttachment.objects.select_related("objection__takedown"), pk=pk
    )
    if not can_see_content(request.user, attachment.objection.takedown.category):
        raise PermissionDenied(RESTRICTED_PICTURES)
    if attachment.deleted_at is not None:
        # Deleted under retention: the record and its SHA-256 stay, the bytes are gone.
        return render(
            request, "reports/evidence_deleted.html", {"evidence": attachment}, status=410
        )
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # lost from storage: not found, not a 500
    response = FileResponse(stored, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("objections/", objection_queue, name="objections"),
    path("objections/<int:objection_id>/", objection_detail, name="objection_detail"),
    path("objections/<int:objection_id>/decide/", decide, name="objection_decide"),
    path("objections/attachments/<int:pk>/", attachment_file, name="objection_attachment"),
]
