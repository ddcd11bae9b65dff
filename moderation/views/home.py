from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.roles import Role
from moderation import selectors
from moderation.access import role_required


@role_required(Role.AUDITOR)
def audit_home(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/audit_home.html", {"summary": selectors.audit_summary()})


urlpatterns = [
    # "queue/" lives in moderation/views/queue.py, "supervision/" (supervisor_home) is the
    # dashboard in moderation/views/dashboard.py.
    path("audit/", audit_home, name="audit_home"),
]
