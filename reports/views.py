from __future__ import annotations

import mimetypes

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from reports.access import can_view_evidence
from reports.models import Evidence

# Only these are ever shown in the page; anything else is downloaded, never rendered.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}


@require_GET
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    """Evidence for signed-in staff only, never executable, never rendered as HTML."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_view_evidence(request.user):
        raise PermissionDenied
    evidence = get_object_or_404(Evidence, pk=pk)
    content_type = (
        evidence.content_type
        if evidence.content_type in INLINE_TYPES
        else ("application/octet-stream")
    )
    extension = mimetypes.guess_extension(content_type) or ".bin"
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=content_type,
        as_attachment=content_type not in INLINE_TYPES,
        filename=f"evidence-{evidence.pk}{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
