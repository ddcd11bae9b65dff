"""The operator's signed callback with the outcome of a takedown (DESIGN.md "Contracts").

Not DRF: the signature covers the raw body, which must be read before any parsing, and the
caller is authenticated by that signature alone (no session, so no CSRF token).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.http import client_ip
from config.metrics import callback_counted
from moderation.takedowns.services import takedown_callback

MAX_BODY = 64 * 1024


@csrf_exempt
def operator_callback(request: HttpRequest, platform: str) -> JsonResponse:
    if request.method != "POST":
        callback_counted(platform=None, result="wrong_method")
        response = JsonResponse({"error": "use POST"}, status=405)
        response["Allow"] = "POST"
        return response
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        callback_counted(platform=None, result="too_large")
        return JsonResponse({"error": "body missing its length or too large"}, status=413)
    result = takedown_callback(
        platform_slug=platform,
        headers=request.headers,
        body=request.body,
        ip_address=client_ip(request),
    )
    callback_counted(
        platform=None if result.result == "unknown_platform" else platform, result=result.result
    )
    return JsonResponse(result.body, status=result.http_status)
