"""Logs (README "Operating Saring"): one line per event, JSON in production and readable text
in `make run` (`LOG_FORMAT`), times in UTC, every line of a request carrying its request id.

The id comes from the client's `X-Request-Id` when it is a plain token (what a proxy or a
source organisation's system sends), else a new one; it is echoed in the response. django-
structlog binds it to everything logged while the request runs, passes it to the Celery tasks
the request queues (an approval's delivery), and the delivery sends it to the operator as
`X-Request-Id`, so one id follows an approval from the supervisor's click to the operator.
Request lines carry no query string, receipt code or client address (RequestLogMiddleware).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django_structlog.middlewares import RequestMiddleware

REQUEST_ID_HEADER = "X-Request-Id"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def request_id_clean(value: str | None) -> str | None:
    """The client's request id if it is a plain token (letters, digits, . _ : -; up to 100),
    else None: nothing odd reaches the logs or the operator's headers."""
    if value and _TOKEN.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    """The request id bound to what runs now (a request, or a task it queued)."""
    return structlog.contextvars.get_contextvars().get("request_id")


class RequestIdMiddleware:
    """First of all middleware: settles the request's id (the client's if clean, else a new
    one) before django-structlog reads it, and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_clean(request.META.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
        request.META["HTTP_X_REQUEST_ID"] = request_id
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _request_of_record(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """For lines logged by other libraries about a request (Django's own "Not Found: /path",
    written after the request's context is gone): the request id from the request, and the
    path as logs show it (no receipt code)."""
    request = getattr(event.get("_record"), "request", None)
    meta = getattr(request, "META", None)
    if isinstance(meta, dict):
        event.setdefault("request_id", meta.get("HTTP_X_REQUEST_ID"))
        path = getattr(request, "path", "")
        if path and isinstance(event.get("event"), str):
            event["event"] = event["event"].replace(path, path_for_logs(path))
    return event


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Configure structlog and return Django's LOGGING: every logger of the standard library
    (Django's, Celery's, ours) and structlog's go through one formatter."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "saring": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": [*shared, _request_of_record],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "saring"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request lines without what a path may carry about people: no query
    string (searches hold names and phone numbers) and no receipt code (a reporter's key to
    their report's status)."""

    @staticmethod
    def format_request(request: HttpRequest) -> str:
        return f"{request.method} {path_for_logs(request.path)}"


def path_for_logs(path: str) -> str:
    """A request's path as logs and error reports show it: without the query string and
    without a receipt code (a reporter's or an objector's key to their status page)."""
    path = path.split("?", 1)[0]
    for page in ("/report/status/", "/objection/status/"):
        if path.startswith(page):
            return page + "…"
    return path
