"""A fixed-window counter per client address, in Redis (shared by every web worker)."""

from __future__ import annotations

from django.core.cache import cache


def rate_limit_reached(*, scope: str, ident: str, limit: int) -> bool:
    """Whether the client has used up its limit in this window, counting nothing."""
    count = cache.get(f"ratelimit:{scope}:{ident}")
    return isinstance(count, int) and count >= limit


def rate_limit_hit(*, scope: str, ident: str, limit: int, window_seconds: int) -> bool:
    """Count one hit; True while within the limit, False once it is exceeded."""
    key = f"ratelimit:{scope}:{ident}"
    if cache.add(key, 1, timeout=window_seconds):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return True
    return count <= limit
