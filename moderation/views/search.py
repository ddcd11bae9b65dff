"""Global search from the header box."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from moderation.access import READERS, role_required
from moderation.selectors_accounts import search as search_everything


@role_required(*READERS)
def search(request: HttpRequest) -> HttpResponse:
    results = search_everything(query=request.GET.get("q", ""))
    return render(request, "moderation/search/results.html", {"results": results})


urlpatterns = [
    path("search/", search, name="search"),
]
