"""Takedown requests: the list with filters and compliance, one request's history, and the
supervisors' retry and cancel."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Platform
from config.roles import Role
from moderation import takedown_selectors
from moderation.access import can_supervise, role_required
from moderation.models import TakedownRequest
from moderation.services import takedowns
from moderation.services.audit import request_ip

READERS = (Role.SUPERVISOR, Role.AUDITOR)


class TakedownFilterForm(forms.Form):
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any"))] + list(TakedownRequest.Status.choices),
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", _("Any"))] + list(
            Platform.objects.order_by("name").values_list("slug", "name")
        )

    def clean_after(self):
        value = self.cleaned_data.get("after") or ""
        if not value:
            return None
        decoded = takedown_selectors.cursor_decode(value)
        if decoded is None:
            raise forms.ValidationError(_("That page link is broken; showing the first page."))
        return decoded


@role_required(*READERS)
def takedown_list(request: HttpRequest) -> HttpResponse:
    form = TakedownFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    filters = takedown_selectors.TakedownFilters(
        platform=data.get("platform") or "",
        status=data.get("status") or "",
        overdue=bool(data.get("overdue")),
    )
    page = takedown_selectors.takedown_page(filters=filters, after=data.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "moderation/takedowns.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "compliance": takedown_selectors.takedown_compliance(),
            "can_act": can_supervise(request.user),
        },
    )


@role_required(*READERS)
def takedown_detail(request: HttpRequest, request_id: UUID) -> HttpResponse:
    takedown = takedown_selectors.takedown_detail(request_id=request_id)
    if takedown is None:
        raise Http404
    return render(
        request,
        "moderation/takedown_detail.html",
        {"takedown": takedown, "can_act": can_supervise(request.user)},
    )


@require_POST
@role_required(Role.SUPERVISOR)
def takedown_retry(request: HttpRequest, request_id: UUID) -> HttpResponse:
    try:
        takedowns.takedown_retry(
            request_id=request_id, supervisor=request.user, ip_address=request_ip(request)
        )
    except takedowns.TakedownActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The request will be delivered again now."))
    return redirect("moderation:takedown_detail", request_id=request_id)


@require_POST
@role_required(Role.SUPERVISOR)
def takedown_cancel(request: HttpRequest, request_id: UUID) -> HttpResponse:
    try:
        takedowns.takedown_cancel(
            request_id=request_id,
            supervisor=request.user,
            reason=request.POST.get("reason", "")[:2000],
            ip_address=request_ip(request),
        )
    except takedowns.TakedownActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The request is cancelled."))
    return redirect("moderation:takedown_detail", request_id=request_id)


urlpatterns = [
    path("takedowns/", takedown_list, name="takedowns"),
    path("takedowns/<uuid:request_id>/", takedown_detail, name="takedown_detail"),
    path("takedowns/<uuid:request_id>/retry/", takedown_retry, name="takedown_retry"),
    path("takedowns/<uuid:request_id>/cancel/", takedown_cancel, name="takedown_cancel"),
]
