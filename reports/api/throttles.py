from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token, counted in the Redis cache, so all web workers share one count."""

    scope = "intake"

    def get_rate(self) -> str:
        return settings.INTAKE_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
