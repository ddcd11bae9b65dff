"""Errors to Sentry or GlitchTip (README "Operating Saring" › Errors), when SENTRY_DSN is set.

What leaves Saring is the error and where it happened, never whom it was about: reporters'
names, e-mail addresses and telephone numbers, account identifiers, report texts, evidence,
tokens and secrets stay here. So:

- no request bodies, cookies, query strings, SQL parameters or client addresses are
  collected, and only a few harmless request headers are kept;
- no local variables of stack frames (they hold reports and contacts);
- the user is reduced to the staff account's id; the request id is added as a tag, so an
  error leads to its log lines;
- e-mail addresses, telephone numbers, bearer tokens and long hex or base64 strings in
  messages, exception values and breadcrumbs are masked (`scrub`, run on every event as a
  second line behind the collection settings), and sentry-sdk's own scrubber removes keys
  such as `password`, `token`, `secret` wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

from config.logs import current_request_id, path_for_logs

_KEPT_HEADERS = frozenset({"user-agent", "content-type", "content-length", "x-request-id", "host"})
_MASKS = (
    # e-mail addresses
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # bearer tokens and API keys in text
    (re.compile(r"(?i)(bearer|token|api[-_ ]?key)\s*[:=]?\s*\S+"), r"\1 [secret]"),
    # long hex or base64-ish strings: keys, signatures, receipt codes, hashes
    (re.compile(r"\b[A-Za-z0-9_\-+/]{32,}={0,2}"), "[secret]"),
    # telephone numbers: +62..., 08..., and other runs of 8+ digits with separators
    (re.compile(r"(?<![\w.])\+?\d[\d\s().-]{7,}\d(?![\w.])"), "[number]"),
)


def mask(text: str) -> str:
    """`text` with e-mail addresses, telephone numbers and secrets masked."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _mask_deep(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _mask_deep(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_deep(item) for item in value]
    return value


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """sentry-sdk's `before_send` (and `before_breadcrumb`'s helper): the event with personal
    data removed or masked."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            scheme, _, rest = request["url"].partition("://")
            host, slash, path = rest.partition("/")
            request["url"] = f"{scheme}://{host}{path_for_logs(slash + path)}"
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in _KEPT_HEADERS
            }
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for key in ("message", "logentry", "extra", "contexts", "tags"):
        if key in event:
            event[key] = _mask_deep(event[key])
    exception = event.get("exception")
    if isinstance(exception, dict):
        for entry in exception.get("values") or []:
            if isinstance(entry.get("value"), str):
                entry["value"] = mask(entry["value"])
            for frame in (entry.get("stacktrace") or {}).get("frames") or []:
                frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [_breadcrumb(crumb) for crumb in breadcrumbs.get("values") or []]
    request_id = current_request_id()  # after the masking: it is what finds the log lines
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def _breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = mask(crumb["message"])
    if "data" in crumb:
        crumb["data"] = _mask_deep(crumb["data"])
    return crumb


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Start reporting errors of this process (web, Celery worker, beat, commands)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # What integrations collect (sentry-sdk 2.76's `data_collection`, which supersedes
        # send_default_pii): no user details, cookies, bodies, query strings, SQL parameters
        # or local variables; request headers only from a short list.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(_KEPT_HEADERS)}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,  # type: ignore[arg-type]
        before_send_transaction=scrub,  # type: ignore[arg-type]
        before_breadcrumb=_breadcrumb,
    )
