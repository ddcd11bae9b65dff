"""Where Saring may send a takedown request: the one rule for operator endpoints.

A takedown request carries a signed order and personal data, so it goes only to an operator's
public HTTPS endpoint — never to an address inside our own network (a cloud's metadata service
at 169.254.169.254, the database, a router), which a mistyped or malicious endpoint could
otherwise make the delivery worker call with a signed body.

- Saved endpoints (admin, `configure_platform`) must be `https://`, and a host given as an IP
  address must be a public one. `OPERATOR_ENDPOINTS_LOOPBACK` (on in `make run` and the tests,
  whose operator simulator listens on 127.0.0.1) also lets `http://` reach a loopback host.
- Before each delivery the host is resolved and every address it resolves to must be public
  (or loopback, with that setting): a name that points inward is refused before anything is
  sent, and the delivery connects to the address that was checked (never resolving the name
  again), so a DNS answer that changes in between cannot redirect it. Link-local, private,
  multicast and reserved addresses are refused in every mode.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _loopback_allowed() -> bool:
    return bool(getattr(settings, "OPERATOR_ENDPOINTS_LOOPBACK", False))


def _address_problem(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if _loopback_allowed() else _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_private or address.is_reserved or address.is_multicast:
        return _("a private or reserved address")
    if address.is_unspecified or not address.is_global:
        return _("an address that is not public")
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def endpoint_problem(url: str) -> str | None:
    """Why `url` may not be an operator endpoint, or None. Looks at the URL only."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return _("The endpoint is not a URL that can be called.")
    if not host:
        return _("The endpoint needs a host name.")
    literal = _literal(host)
    if literal is not None:
        problem = _address_problem(literal)
        if problem:
            return _("The endpoint points at %(what)s.") % {"what": problem}
    if host == "localhost" and not _loopback_allowed():
        return _("The endpoint points at %(what)s.") % {"what": _("a loopback address")}
    loopback = host == "localhost" or (literal is not None and literal.is_loopback)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        return _("The endpoint must be an https:// address.")
    if parts.username or parts.password:
        return _("The endpoint may not carry a user name or password.")
    return None


@dataclass(frozen=True)
class Resolved:
    """An endpoint checked for one delivery: why it may not be called, or the address that
    was checked — the one the delivery then connects to (`address`), so that a DNS answer
    changed between the check and the connection (DNS rebinding) cannot point it inward."""

    problem: str | None = None
    address: str = ""


def resolve_endpoint(url: str) -> Resolved:
    """`endpoint_problem`, and every address the host resolves to now must be allowed too.
    Run before each delivery: a DNS name can be pointed inward after it was saved."""
    problem = endpoint_problem(url)
    if problem:
        return Resolved(problem)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        return Resolved(_("The endpoint's host name does not resolve: %(error)s") % {"error": exc})
    addresses = []
    for *_ignored, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        problem = _address_problem(address)
        if problem:
            return Resolved(
                _("The endpoint's host name resolves to %(what)s (%(address)s).")
                % {"what": problem, "address": address}
            )
        addresses.append(str(address))
    if not addresses:
        return Resolved(_("The endpoint's host name does not resolve: %(error)s") % {"error": "—"})
    return Resolved(address=addresses[0])


def validate_endpoint(url: str) -> None:
    """The model field's validator (admin form and `configure_platform` alike)."""
    problem = endpoint_problem(url)
    if problem:
        raise ValidationError(problem, code="endpoint")
