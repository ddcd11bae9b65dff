"""The chat account page (identifiers, linked accounts, status, the whole timeline) and the
global search from the header box."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from accounts.models import ChatAccount
from config.roles import has_role
from moderation.access import OBJECTION_READERS, READERS, can_read_deliveries, role_required
from moderation.lookup.selectors import (
    TIMELINE_PER_KIND,
    account_timeline,
    linked_accounts,
    search_everything,
)

TEMPLATES = "moderation/lookup/"


@role_required(*READERS)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ChatAccount.objects.select_related("platform"), pk=pk)
    timeline, truncated = account_timeline(
        account=account,
        with_deliveries=can_read_deliveries(request.user),
        with_objections=has_role(request.user, *OBJECTION_READERS),
    )
    return render(
        request,
        TEMPLATES + "account.html",
        {
            "account": account,
            "linked": linked_accounts(account=account),
            "timeline": timeline,
            "truncated": truncated,
            "per_kind": TIMELINE_PER_KIND,
            "report_count": account.reports.count(),
        },
    )


@role_required(*READERS)
def search(request: HttpRequest) -> HttpResponse:
    results = search_everything(
        query=request.GET.get("q", ""), with_requests=can_read_deliveries(request.user)
    )
    return render(request, TEMPLATES + "search.html", {"results": results})


urlpatterns = [
    path("accounts/<int:pk>/", account_detail, name="account"),
    path("search/", search, name="search"),
]
