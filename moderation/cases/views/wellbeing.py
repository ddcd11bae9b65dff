"""Reviewer wellbeing (issue 16): a person's own evidence settings page and the case page's
break prompt. The settings are saved by `moderation:evidence_preference` (views/case.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.clock import wib_today
from config.http import safe_next
from moderation.access import READERS, role_required
from moderation.cases.wellbeing import BREAK_DISMISSED_SESSION_KEY, evidence_tools_for


@require_GET
@role_required(*READERS)
def evidence_settings(request: HttpRequest) -> HttpResponse:
    """My evidence settings: blur level, grayscale, keep blurred; today's graphic count."""
    context = evidence_tools_for(user=request.user, session=request.session)
    return render(request, "moderation/cases/evidence_settings.html", context)


@require_POST
@role_required(*READERS)
def break_dismiss(request: HttpRequest) -> HttpResponse:
    """Hide today's break prompt for the rest of this session's WIB day."""
    request.session[BREAK_DISMISSED_SESSION_KEY] = wib_today().isoformat()
    messages.info(request, _("Thank you. The break suggestion is hidden for today."))
    return redirect(safe_next(request, request.POST.get("back"), default=reverse("home")))


urlpatterns = [
    path("preferences/", evidence_settings, name="evidence_settings"),
    path("wellbeing/break/dismiss/", break_dismiss, name="wellbeing_break_dismiss"),
]
