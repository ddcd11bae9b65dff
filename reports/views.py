from __future__ import annotations

import csv
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import client_ip, wants_partial
from config.roles import Role, role_required
from config.spreadsheet import cell
from moderation.cases import evidence_settings_for
from reports.access import can_see_content, can_view_evidence
from reports.captcha import (
    RECEIPT_CHARACTERS,
    ROBOT_CHECK_UNFINISHED,
    challenge_new,
    solution_accept,
    without_solution,
)
from reports.forms import ImportUploadForm, PublicReportForm
from reports.models import Evidence, ImportJob
from reports.ratelimit import rate_limit_hit, rate_limit_reached
from reports.selectors import report_by_receipt, report_status
from reports.services import imports
from reports.services.imports import import_job_create
from reports.services.public import public_report_submit
from reports.services.wellbeing import graphic_view_record

RESTRICTED_EVIDENCE = _(
    "This evidence belongs to a case in a restricted category (child sexual abuse material or "
    "terrorism): only people in the Specialist role may open it."
)


@require_GET
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    """Evidence for signed-in staff only, never executable, never rendered as HTML."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_view_evidence(request.user):
        raise PermissionDenied
    evidence = get_object_or_404(Evidence.objects.select_related("report__case"), pk=pk)
    if not can_see_content(request.user, evidence.report.case.category):
        raise PermissionDenied(RESTRICTED_EVIDENCE)
    if evidence.deleted_at is not None:
        # Deleted under retention: the record and its SHA-256 stay, the bytes are gone.
        context = {"evidence": evidence}
        return render(request, "reports/evidence_deleted.html", context, status=410)
    if evidence.shown_inline and request.headers.get("Sec-Fetch-Dest") == "document":
        # Opened in a tab: the browser's own image viewer styles itself inline, which the
        # picture's sandboxing policy refuses (CSP errors, the picture in a corner). So the
        # tab gets a page of ours under the site's strict policy; its <img> asks for the
        # bytes (Sec-Fetch-Dest: image), which are served below as before.
        context = {"evidence": evidence, "look": evidence_settings_for(request.user)}
        response = render(request, "reports/evidence_view.html", context)
        response["Cache-Control"] = "private, no-store"
        patch_vary_headers(response, ["Sec-Fetch-Dest"])
        return response
    content_type = evidence.content_type if evidence.shown_inline else "application/octet-stream"
    extension = mimetypes.guess_extension(content_type) or ".bin"
    try:
        stored = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # lost from storage outside retention: not found, not a 500
    graphic_view_record(user=request.user, evidence=evidence)  # counted only when graphic
    response = FileResponse(
        stored,
        content_type=content_type,
        as_attachment=not evidence.shown_inline,
        filename=f"evidence-{evidence.pk}{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ["Sec-Fetch-Dest"])
    return response


# --- The public report form (issue 3) ------------------------------------------------------

PUBLIC_STATUS_LABELS = {
    "received": _("Received"),
    "in_review": _("In review"),
    "action_taken": _("Action taken"),
    "closed": _("Closed"),
}
PUBLIC_STATUS_TEXT = {
    "received": _("Your report has been received and is waiting for a moderator."),
    "in_review": _("A moderator is looking at the account you reported."),
    "action_taken": _("Action has been taken against the account you reported."),
    "closed": _("Your report has been reviewed and the case is closed."),
}


PUBLIC_REPORT_SCOPE = "public-report"


@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest) -> HttpResponse:
    """The public report form: no sign-in, a proof-of-work captcha and a per-client limit.

    In order of cost: the proof of work is checked and used up first (a few hashes), so an
    unsolved or replayed POST decodes no picture and counts toward nobody's limit; then
    whether this client has used up its limit; then the form, pictures included. Only an
    accepted report counts toward the limit; a refused one costs its sender a new proof of
    work (the page solves one as it loads again)."""
    form = PublicReportForm()
    if request.method == "POST":
        client = client_ip(request) or "unknown"
        limit = settings.PUBLIC_REPORT_RATE_PER_HOUR
        if not solution_accept(request.POST.get("altcha", "")):
            form = PublicReportForm(without_solution(request.POST))  # files not read
            form.add_error(None, ROBOT_CHECK_UNFINISHED)
            return render(request, "reports/public_form.html", {"form": form})
        if rate_limit_reached(scope=PUBLIC_REPORT_SCOPE, ident=client, limit=limit):
            return render(request, "reports/public_limited.html", status=429)
        form = PublicReportForm(without_solution(request.POST), request.FILES)
        if form.is_valid():
            if not rate_limit_hit(
                scope=PUBLIC_REPORT_SCOPE, ident=client, limit=limit, window_seconds=3600
            ):
                return render(request, "reports/public_limited.html", status=429)
            data = form.cleaned_data
            report = public_report_submit(
                platform=data["platform"],
                identifier=data["identifier"],
                account_submitted=data["account"],
                category=data["category"],
                description=data["description"],
                screenshots=data["screenshots"],
                reporter_name=data["reporter_name"],
                reporter_email=data["reporter_email"],
                reporter_phone=data["reporter_phone"],
                consent=data["consent"],
                ip_address=client_ip(request),
            )
            return redirect(reverse("reports:public_status", args=[report.receipt_code]) + "?new=1")
    return render(request, "reports/public_form.html", {"form": form})


@require_GET
def altcha_challenge(request: HttpRequest) -> HttpResponse:
    allowed = rate_limit_hit(
        scope="altcha", ident=client_ip(request) or "unknown", limit=120, window_seconds=3600
    )
    if not allowed:
        return JsonResponse({"detail": "Too many requests."}, status=429)
    response = JsonResponse(challenge_new())
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def public_status(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """What a reporter may know of their report: one of four words, nothing more."""
    code = (code or request.GET.get("code", "")).strip().upper()[:20]
    context: dict = {"code": code}
    if code and not RECEIPT_CHARACTERS.fullmatch(code):  # "a/b" is no receipt, and no URL
        context["not_found"] = True
        return render(request, "reports/public_status.html", context, status=404)
    if code and request.GET.get("code"):
        return redirect("reports:public_status", code=code)
    if code:
        allowed = rate_limit_hit(
            scope="public-status",
            ident=client_ip(request) or "unknown",
            limit=120,
            window_seconds=3600,
        )
        if not allowed:
            return render(request, "reports/public_limited.html", status=429)
        report = report_by_receipt(code)
        if report is None:
            context["not_found"] = True
            return render(request, "reports/public_status.html", context, status=404)
        state = report_status(report)
        context.update(
            report=report,
            state=state,
            state_label=PUBLIC_STATUS_LABELS[state],
            state_text=PUBLIC_STATUS_TEXT[state],
            new=request.GET.get("new") == "1",
        )
    response = render(request, "reports/public_status.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- Bulk CSV import (issue 3): supervisors ------------------------------------------------


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm()
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            job = import_job_create(
                organisation=form.cleaned_data["organisation"],
                file=form.cleaned_data["file"],
                requested_by=request.user,
                ip_address=client_ip(request),
            )
            return redirect("reports:import_detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("organisation", "requested_by")[:20]
    return render(request, "reports/import_upload.html", {"form": form, "jobs": jobs})


@role_required(Role.SUPERVISOR)
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's page; htmx polls the progress partial until the job has finished."""
    job = get_object_or_404(ImportJob.objects.select_related("organisation"), pk=pk)
    partial = wants_partial(request)
    template = "reports/_import_progress.html" if partial else "reports/import_detail.html"
    return render(request, template, {"job": job})


@role_required(Role.SUPERVISOR)
@require_POST
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed import again (its worker was lost, or the file could not be read)."""
    try:
        imports.import_retry(job_id=pk, user=request.user, ip_address=client_ip(request))
    except imports.ImportRetryRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Import %(pk)s queued again.") % {"pk": pk})
    return redirect("reports:import_detail", pk=pk)


@role_required(Role.SUPERVISOR)
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The per-row error report as CSV, to fix the rows and import the file again."""
    job = get_object_or_404(ImportJob, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["row", "field", "problem"])
    for entry in job.errors:
        for field, problems in entry["errors"].items():
            for problem in problems:
                writer.writerow([entry["row"], cell(field), cell(problem)])
    return response
