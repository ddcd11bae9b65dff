"""Takedown requests: the list with filters and compliance, one request's history, and the
supervisors' retry and cancel (of restore requests too, which are shown on their objection's
page)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.http import client_ip
from config.roles import Role, role_required
from moderation.access import DELIVERY_READERS, can_supervise
from moderation.keyset import BadCursor
from moderation.takedowns import selectors, services
from moderation.takedowns.forms import TakedownFilterForm


@require_GET
@role_required(*DELIVERY_READERS)
def takedown_list(request: HttpRequest) -> HttpResponse:
    form = TakedownFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    filters = form.filters()
    try:
        page = selectors.takedown_page(filters=filters, cursor=request.GET.get("after", ""))
    except BadCursor:
        messages.error(request, _("That page link is broken; showing the first page."))
        page = selectors.takedown_page(filters=filters)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "moderation/takedowns/list.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "compliance": selectors.takedown_compliance(),
            "can_act": can_supervise(request.user),
        },
    )


@require_GET
@role_required(*DELIVERY_READERS)
def takedown_detail(request: HttpRequest, request_id: UUID) -> HttpResponse:
    takedown = selectors.takedown_detail(request_id=request_id)
    if takedown is None:
        raise Http404
    return render(
        request,
        "moderation/takedowns/detail.html",
        {"takedown": takedown, "can_act": can_supervise(request.user)},
    )


# --- supervisors' retry and cancel, of takedown and restore requests alike ---------------


def _act(request: HttpRequest, action: Callable[[], object], *, done: str) -> None:
    """Run a supervisor's action: a refusal becomes the error shown, success `done`."""
    try:
        action()
    except services.TakedownActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)


def _reason(request: HttpRequest) -> str:
    return request.POST.get("reason", "")[:2000]


@require_POST
@role_required(Role.SUPERVISOR)
def takedown_retry(request: HttpRequest, request_id: UUID) -> HttpResponse:
    _act(
        request,
        lambda: services.takedown_retry(
            request_id=request_id, supervisor=request.user, ip_address=client_ip(request)
        ),
        done=_("The request will be delivered again now."),
    )
    return redirect("moderation:takedown_detail", request_id=request_id)


@require_POST
@role_required(Role.SUPERVISOR)
def takedown_cancel(request: HttpRequest, request_id: UUID) -> HttpResponse:
    _act(
        request,
        lambda: services.takedown_cancel(
            request_id=request_id,
            supervisor=request.user,
            reason=_reason(request),
            ip_address=client_ip(request),
        ),
        done=_("The request is cancelled."),
    )
    return redirect("moderation:takedown_detail", request_id=request_id)


def _back_to_objection(request_id: UUID) -> HttpResponse:
    """A restore request is shown on the page of the objection that granted it."""
    objection_id = selectors.restore_objection_id(request_id=request_id)
    if objection_id is None:
        return redirect("moderation:objections")
    return redirect("moderation:objection_detail", objection_id=objection_id)


@require_POST
@role_required(Role.SUPERVISOR)
def restore_retry(request: HttpRequest, request_id: UUID) -> HttpResponse:
    _act(
        request,
        lambda: services.restore_retry(
            request_id=request_id, supervisor=request.user, ip_address=client_ip(request)
        ),
        done=_("The restore request will be delivered again now."),
    )
    return _back_to_objection(request_id)


@require_POST
@role_required(Role.SUPERVISOR)
def restore_cancel(request: HttpRequest, request_id: UUID) -> HttpResponse:
    _act(
        request,
        lambda: services.restore_cancel(
            request_id=request_id,
            supervisor=request.user,
            reason=_reason(request),
            ip_address=client_ip(request),
        ),
        done=_("The restore request is cancelled."),
    )
    return _back_to_objection(request_id)


urlpatterns = [
    path("takedowns/", takedown_list, name="takedowns"),
    path("takedowns/<uuid:request_id>/", takedown_detail, name="takedown_detail"),
    path("takedowns/<uuid:request_id>/retry/", takedown_retry, name="takedown_retry"),
    path("takedowns/<uuid:request_id>/cancel/", takedown_cancel, name="takedown_cancel"),
    path("restores/<uuid:request_id>/retry/", restore_retry, name="restore_retry"),
    path("restores/<uuid:request_id>/cancel/", restore_cancel, name="restore_cancel"),
]
