"""The auditors' pages: decision log, audit trail, case history, chain check, exports.

Auditors read everything and change nothing (DESIGN.md "People"); every view here is for the
Auditor role only. Lists answer htmx requests with a partial and plain requests with a page.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import client_ip, wants_partial
from config.roles import Role, role_required
from moderation.audit.forms import AuditTrailFilterForm, DecisionLogFilterForm, ExportRequestForm
from moderation.audit.selectors import (
    audit_chain_head,
    audit_summary,
    audit_trail_page,
    case_history,
    decision_log_page,
    recent_exports,
)
from moderation.audit.services import exports
from moderation.audit.services.chain import audit_chain_verify
from moderation.keyset import BadCursor
from moderation.models import Export
from reports.access import reporter_contact_for

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
    for report in history.reports:  # masked unless the viewer may see them
        report.contact = reporter_contact_for(request.user, report)  # type: ignore[attr-defined]
    return render(request, TEMPLATES + "case.html", {"history": history})


@require_http_methods(["GET", "POST"])
@auditor_only
def chain(request: HttpRequest) -> HttpResponse:
    context = {"head": audit_chain_head(), "report": None}
    if request.method == "POST":
        context["report"] = audit_chain_verify()
        context["head"] = audit_chain_head()
        if wants_partial(request):
            return render(request, TEMPLATES + "chain.html#result", context)
    return render(request, TEMPLATES + "chain.html", context)


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
@auditor_only
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(Export.objects.select_related("requested_by"), pk=pk)
    if wants_partial(request):
        return render(request, TEMPLATES + "export.html#progress", {"export": export})
    return render(request, TEMPLATES + "export.html", {"export": export})


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


urlpatterns = [
    path("audit/", audit_home, name="audit_home"),
    path("audit/decisions/", decision_log, name="audit_decisions"),
    path("audit/trail/", audit_trail, name="audit_trail"),
    path("audit/cases/<int:pk>/", case_detail, name="audit_case"),
    path("audit/chain/", chain, name="audit_chain"),
    path("audit/exports/", export_create, name="audit_export_create"),
    path("audit/exports/<int:pk>/", export_detail, name="audit_export"),
    path("audit/exports/<int:pk>/download/", export_download, name="audit_export_download"),
]
