"""What every view needs to know about the request it answers, decided in one place.

- `client_ip`: the address of the person at the other end. Audit events, the public form's
  rate limits and the sign-in lockout all count this one, so behind the reverse proxy they
  all see the client and never the proxy.
- `wants_partial`: whether htmx asked for a piece of the page rather than the whole page.
- `safe_next`: a "come back here" address from a form or a link, kept only when it stays
  on this site.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the peer (REMOTE_ADDR), or behind `SARING_PROXY_HOPS` trusted
    reverse proxies the address the outermost of them saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the
    client is the N-th entry from the right; anything further left came from the client and
    may be forged. A header too short or not an address falls back to the peer. None when
    there is no request (a command, a worker).
    """
    if request is None:
        return None
    hops = settings.SARING_PROXY_HOPS
    if hops:
        forwarded = [
            part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part
        ]
        if len(forwarded) >= hops:
            address = _address(forwarded[-hops])
            if address is not None:
                return address
    return _address(request.META.get("REMOTE_ADDR", "")) or None


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a boosted link wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def safe_next(request: HttpRequest, value: str | None, *, default: str) -> str:
    """`value` if it is a path or URL on this site, otherwise `default`."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default
