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


@role_required(Role.SUPERVISOR)
def supervisor_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "moderation/supervisor_home.html",
        {"counts": selectors.case_counts(), "takedowns": selectors.takedown_counts()},
    )


urlpatterns = [
    path("queue/", queue, name="queue"),
    path("supervision/", supervisor_home, name="supervisor_home"),
]
