from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.roles import Role
from moderation import selectors
from moderation.access import REVIEWERS, role_required


@role_required(*REVIEWERS)
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "moderation/queue.html",
        {"cases": selectors.case_queue_first_page(), "counts": selectors.case_counts()},
    )


@role_required(Role.AUDITOR)
def audit_home(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/audit_home.html", {"summary": selectors.audit_summary()})


urlpatterns = [
    path("queue/", queue, name="queue"),
    # "supervision/" (supervisor_home) is the dashboard: moderation/views/dashboard.py
    path("audit/", audit_home, name="audit_home"),
]
