"""The chat account page: identifiers, linked accounts, status and the whole timeline."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from accounts.models import ChatAccount
from moderation.access import READERS, role_required
from moderation.selectors_accounts import TIMELINE_PER_KIND, account_timeline, linked_accounts


@role_required(*READERS)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ChatAccount.objects.select_related("platform"), pk=pk)
    timeline, truncated = account_timeline(account=account)
    return render(
        request,
        "moderation/accounts/detail.html",
        {
            "account": account,
            "linked": linked_accounts(account=account),
            "timeline": timeline,
            "truncated": truncated,
            "per_kind": TIMELINE_PER_KIND,
            "report_count": account.reports.count(),
        },
    )


urlpatterns = [
    path("accounts/<int:pk>/", account_detail, name="account"),
]
