"""The auditors' pages: decision log, audit trail, case history, chain check, exports.

Auditors read everything and change nothing (DESIGN.md "People"); every view here is for the
Auditor role only. Lists answer htmx requests with a partial and plain requests with a page.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from redis.exceptions import RedisError

from config.http import client_ip, wants_partial
from config.roles import Role, role_required
from moderation.audit.forms import (
    AuditTrailFilterForm,
    CheckpointForm,
    DecisionLogFilterForm,
    ExportRequestForm,
)
from moderation.audit.selectors import (
    audit_log_state,
    audit_summary,
    audit_trail_page,
    case_history,
    decision_log_page,
    recent_exports,
)
from moderation.audit.services import checkpoints, exports, log
from moderation.keyset import BadCursor
from moderation.models import Export
from reports.access import can_see_content, reporter_contact_for
from verifier import saring_verify

auditor_only = role_required(Role.AUDITOR)
TEMPLATES = "moderation/audit/"


@require_GET
@auditor_only
def audit_home(request: HttpRequest) -> HttpResponse:
    context = {"summary": audit_summary(), "exports": recent_exports()}
    return render(request, TEMPLATES + "home.html", context)


def _list_page(request: HttpRequest, *, form, load_page, template: str) -> HttpResponse:
    """A filtered, keyset-paged list: the page, the results (a new filter) or more rows."""
    page = None
    cursor = request.GET.get("cursor", "")
    if form.is_valid():
        try:
            page = load_page(filters=form.filters(), cursor=cursor)
        except BadCursor:
            form.add_error(None, _("That page link is not valid; start again from the top."))
    context = {"form": form, "page": page, "filters": form.filters() if page else {}}
    if wants_partial(request):
        partial = "rows" if cursor and page else "results"
        return render(request, f"{TEMPLATES}{template}#{partial}", context)
    return render(request, TEMPLATES + template, context)


@require_GET
@auditor_only
def decision_log(request: HttpRequest) -> HttpResponse:
    form = DecisionLogFilterForm(request.GET)
    return _list_page(request, form=form, load_page=decision_log_page, template="decisions.html")


@require_GET
@auditor_only
def audit_trail(request: HttpRequest) -> HttpResponse:
    form = AuditTrailFilterForm(request.GET)
    return _list_page(request, form=form, load_page=audit_trail_page, template="trail.html")


@require_GET
@auditor_only
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    history = case_history(case_id=pk)
    readable = can_see_content(request.user, history.case.category)
    for report in history.reports:  # masked unless the viewer may see them
        report.contact = reporter_contact_for(request.user, report)  # type: ignore[attr-defined]
        # A restricted category's text is for specialists (the decisions stay auditable).
        report.readable = readable  # type: ignore[attr-defined]
    return render(request, TEMPLATES + "case.html", {"history": history})


def _verifier_key() -> str | None:
    try:
        return checkpoints.verifier_key()
    except checkpoints.SigningKeyMissing:
        return None


@require_http_methods(["GET", "POST"])
@auditor_only
def chain(request: HttpRequest) -> HttpResponse:
    """The log's latest checkpoint to keep; POST queues a verification of the whole log
    (against an older checkpoint when one is uploaded) and shows it as it runs."""
    posted = request.method == "POST"
    form = CheckpointForm(request.POST, request.FILES) if posted else CheckpointForm()
    context = {"form": form, "verification": None, "key": _verifier_key(), "state": None}
    status = 200
    if posted and form.is_valid():
        note = form.cleaned_data["checkpoint"]
        if note:
            try:  # refused now, not after a wait: it must be a checkpoint of this log
                saring_verify.open_checkpoint(note, context["key"] or "")
            except saring_verify.BadNote as exc:
                form.add_error("checkpoint", _("This is not a checkpoint of this log: %s") % exc)
        if form.is_valid():
            try:
                job_id = log.log_verify_enqueue(note)
            except RedisError:
                form.add_error(
                    None,
                    _(
                        "The verification could not be queued: the job queue is not "
                        "reachable. Try again in a minute."
                    ),
                )
                status = 503
            else:
                if not wants_partial(request):
                    return redirect("moderation:audit_chain_verification", job_id=job_id)
                context["verification"] = log.Verification(job_id, "queued")
    if posted and not form.is_valid() and status == 200:
        status = 400
    context["state"] = audit_log_state()
    if posted and wants_partial(request):  # htmx swaps 2xx answers only: the error is in it
        return render(request, TEMPLATES + "chain.html#result", context)
    return render(request, TEMPLATES + "chain.html", context, status=status)


@require_GET
@auditor_only
def chain_verification(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """A verification's progress and, once done, its verdict (the page polls while it runs)."""
    try:
        verification = log.log_verification(str(job_id))
    except RedisError:
        return HttpResponse(
            _("The job queue is not reachable; reload this page in a minute."), status=503
        )
    if verification is None:
        raise Http404
    if wants_partial(request):
        return render(
            request, TEMPLATES + "chain.html#verification", {"verification": verification}
        )
    context = {
        "form": CheckpointForm(),
        "verification": verification,
        "key": _verifier_key(),
        "state": audit_log_state(),
    }
    return render(request, TEMPLATES + "chain.html", context)


@require_GET
@auditor_only
def checkpoint_download(request: HttpRequest) -> HttpResponse:
    checkpoint = checkpoints.latest_checkpoint()
    if checkpoint is None:
        raise Http404
    response = HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="saring-checkpoint-{checkpoint.size}.txt"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@auditor_only
def export_create(request: HttpRequest) -> HttpResponse:
    form = ExportRequestForm(request.POST)
    if not form.is_valid():
        return render(request, TEMPLATES + "export_invalid.html", {"form": form}, status=400)
    export = exports.export_request(
        user=request.user,
        filters=form.filters(),
        format=form.cleaned_data["format"],
        include_contacts=form.cleaned_data["include_contacts"],
        ip_address=client_ip(request),
    )
    return redirect("moderation:audit_export", pk=export.pk)


@require_GET
@role_required(Role.SUPERVISOR)
def exports_awaiting(request: HttpRequest) -> HttpResponse:
    """Exports with public reporters' contact details, waiting for a supervisor."""
    waiting = (
        Export.objects.filter(status=Export.Status.AWAITING)
        .select_related("requested_by")
        .order_by("created_at")
    )
    return render(request, TEMPLATES + "exports_awaiting.html", {"waiting": waiting})


@require_POST
@role_required(Role.SUPERVISOR)
def export_contacts_decide(request: HttpRequest, pk: int) -> HttpResponse:
    verdict = request.POST.get("verdict")
    if verdict not in ("approve", "refuse"):
        messages.error(request, _("Choose approve or refuse."))
        return redirect("moderation:audit_exports_awaiting")
    try:
        exports.export_contacts_decide(
            export_id=pk,
            supervisor=request.user,
            approve=verdict == "approve",
            ip_address=client_ip(request),
        )
    except exports.ExportDecisionRefused as refused:
        messages.error(request, str(refused))
    else:
        if verdict == "approve":
            messages.success(request, _("Export %(pk)s approved: it runs now.") % {"pk": pk})
        else:
            messages.success(request, _("Export %(pk)s refused.") % {"pk": pk})
    return redirect("moderation:audit_exports_awaiting")


@require_GET
@auditor_only
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(
        Export.objects.select_related("requested_by", "contacts_decided_by"), pk=pk
    )
    if wants_partial(request):
        return render(request, TEMPLATES + "export.html#progress", {"export": export})
    return render(request, TEMPLATES + "export.html", {"export": export})


@require_POST
@auditor_only
def export_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed export again, from the start."""
    try:
        exports.export_retry(export_id=pk, user=request.user, ip_address=client_ip(request))
    except exports.ExportRetryRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Export %(pk)s queued again.") % {"pk": pk})
    return redirect("moderation:audit_export", pk=pk)


@require_GET
@auditor_only
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = get_object_or_404(Export, pk=pk, status=Export.Status.DONE)
    if not export.file:
        raise Http404
    handle = export.file.open("rb")
    exports.export_downloaded(export=export, user=request.user, ip_address=client_ip(request))
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=PurePosixPath(export.file.name).name,
        content_type=exports.CONTENT_TYPES[export.format],
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Saring-SHA256"] = export.sha256
    return response


@require_GET
@auditor_only
def export_proof(request: HttpRequest, pk: int) -> HttpResponse:
    """The export's proof bundle: a JSON file to give with the export to whoever must check it."""
    export = get_object_or_404(Export, pk=pk, status=Export.Status.DONE)
    try:
        bundle = exports.export_proof_bundle(export=export)
    except exports.ProofNotReady:
        response = HttpResponse(
            _("The log has not sealed and signed this export yet; try again in a few seconds."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "5"
        return response
    response = JsonResponse(bundle, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="export-{export.pk}.proof.json"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("audit/", audit_home, name="audit_home"),
    path("audit/decisions/", decision_log, name="audit_decisions"),
    path("audit/trail/", audit_trail, name="audit_trail"),
    path("audit/cases/<int:pk>/", case_detail, name="audit_case"),
    path("audit/chain/", chain, name="audit_chain"),
    path("audit/chain/checkpoint/", checkpoint_download, name="audit_checkpoint"),
    path(
        "audit/chain/verifications/<uuid:job_id>/",
        chain_verification,
        name="audit_chain_verification",
    ),
    path("audit/exports/", export_create, name="audit_export_create"),
    path("audit/exports/<int:pk>/", export_detail, name="audit_export"),
    path("audit/exports/awaiting/", exports_awaiting, name="audit_exports_awaiting"),
    path(
        "audit/exports/<int:pk>/contacts/",
        export_contacts_decide,
        name="audit_export_contacts_decide",
    ),
    path("audit/exports/<int:pk>/download/", export_download, name="audit_export_download"),
    path("audit/exports/<int:pk>/retry/", export_retry, name="audit_export_retry"),
    path("audit/exports/<int:pk>/proof/", export_proof, name="audit_export_proof"),
]
