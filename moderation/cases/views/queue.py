"""The reviewer queue: the list, its counts, "next case", escalations and bulk dismissal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.http import client_ip, safe_next, wants_partial
from config.roles import Role, role_required
from moderation.access import READERS, REVIEWERS, can_review, can_supervise, visible_cases
from moderation.cases import selectors
from moderation.cases.forms import BulkDismissForm, QueueFilterForm
from moderation.cases.services import CaseActionError, case_claim_next, cases_dismiss_bulk
from moderation.cases.views.rows import queue_rows


@require_GET
@role_required(*READERS)
def queue(request: HttpRequest) -> HttpResponse:
    """The page, or with htmx only its results (filters, search and paging swap them)."""
    form = QueueFilterForm(request.GET, platforms=selectors.queue_platforms())
    page = selectors.case_queue(
        filters=form.filters(),
        cursor=request.GET.get("after", ""),
        search_scope=visible_cases(request.user),
    )
    supervising = can_supervise(request.user)
    # Rows link to "<case_path><id>/": one reverse() per page, not two per row.
    case_path = reverse("moderation:case", args=[0]).removesuffix("0/")
    context = {
        "rows": queue_rows(page, case_path=case_path, selectable=supervising, viewer=request.user),
        "form": form,
        "page": page,
        "filter_query": page.filters.as_query(),
        "can_review": can_review(request.user),
        "can_supervise": supervising,
    }
    template = "moderation/cases/queue.html"
    if wants_partial(request):
        template += "#results"
    return render(request, template, context)


@require_GET
@role_required(*READERS)
def queue_counts(request: HttpRequest) -> HttpResponse:
    """Counts per filter, loaded after the page (they read the whole queue; cached briefly)."""
    counts = selectors.queue_counts()
    form = QueueFilterForm(platforms=selectors.queue_platforms())
    facets = [
        (
            form.fields[name].label,
            [
                (label, counts[name].get(value, 0))
                for value, label in form.fields[name].choices
                if value
            ],
        )
        for name in ("platform", "category", "source", "urgency", "age", "claimed", "sla")
    ]
    return render(
        request, "moderation/cases/queue_counts.html", {"counts": counts, "facets": facets}
    )


@require_POST
@role_required(*REVIEWERS)
def next_case(request: HttpRequest) -> HttpResponse:
    case = case_claim_next(moderator=request.user, ip_address=client_ip(request))
    if case is None:
        messages.info(request, _("Nothing left to review: the queue is empty."))
        return redirect("moderation:queue")
    return redirect("moderation:case", case_id=case.pk)


@require_GET
@role_required(Role.SUPERVISOR, Role.AUDITOR)
def escalated(request: HttpRequest) -> HttpResponse:
    page = selectors.escalated_cases(cursor=request.GET.get("after", ""))
    return render(
        request,
        "moderation/cases/escalated.html",
        {"page": page, "can_supervise": can_supervise(request.user)},
    )


@require_POST
@role_required(Role.SUPERVISOR)
def bulk_dismiss(request: HttpRequest) -> HttpResponse:
    form = BulkDismissForm(request.POST)
    back = safe_next(request, request.POST.get("back"), default=reverse("moderation:escalated"))
    if not form.is_valid():
        messages.error(request, _("Select cases and give a reason for dismissing them."))
        return redirect(back)
    try:
        result = cases_dismiss_bulk(
            case_versions=form.case_versions(),
            supervisor=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=client_ip(request),
        )
    except CaseActionError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(
        request,
        _("Dismissed %(n)d cases (batch %(batch)s).")
        % {"n": len(result.dismissed), "batch": result.batch_id},
    )
    if result.skipped:
        messages.warning(
            request,
            _("These cases changed since the list was loaded and were left alone: %(ids)s")
            % {"ids": ", ".join(f"#{pk}" for pk in result.skipped)},
        )
    return redirect(back)


urlpatterns = [
    path("queue/", queue, name="queue"),
    path("queue/counts/", queue_counts, name="queue_counts"),
    path("queue/next/", next_case, name="next_case"),
    path("queue/escalated/", escalated, name="escalated"),
    path("queue/bulk-dismiss/", bulk_dismiss, name="bulk_dismiss"),
]
