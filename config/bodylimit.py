"""Refuse request bodies over settings.REQUEST_BODY_MAX_BYTES with 413, in front of Django.

A declared Content-Length over the cap is refused before anything is read. A body without a
length (chunked) or longer than it claims is cut off once the bytes actually read pass the
cap; whatever Django answered is then replaced by the 413. gunicorn limits only the request
line and headers (see Procfile), so this is the body cap of the Python side; the reverse
proxy in front should cap bodies as well (README "Security")."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import RequestDataTooBig

MESSAGE = b'{"type": "about:blank", "title": "Request body too large", "status": 413}'


class _CappedInput:
    def __init__(self, stream, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_bytes = 0
        self.exceeded = False

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            self.exceeded = True
            raise RequestDataTooBig("Request body exceeded REQUEST_BODY_MAX_BYTES.")
        return data

    def read(self, size: int = -1) -> bytes:
        return self._count(self.stream.read(size) if size is not None else self.stream.read())

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.stream.readline(size))

    def __iter__(self):
        while line := self.readline():
            yield line


class RequestBodyLimit:
    def __init__(self, app: Callable, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > self.limit:
            return self._refuse(start_response)
        capped = _CappedInput(environ["wsgi.input"], self.limit)
        environ["wsgi.input"] = capped
        started: list = []

        def delayed_start(status, headers, exc_info=None):
            started[:] = [status, headers, exc_info]
            return lambda data: None  # Django never uses the legacy write()

        try:
            result = self.app(environ, delayed_start)
        except RequestDataTooBig:
            if not capped.exceeded:
                raise
            return self._refuse(start_response)
        if capped.exceeded:
            if hasattr(result, "close"):
                result.close()
            return self._refuse(start_response)
        start_response(*started)
        return result

    def _refuse(self, start_response: Callable) -> list[bytes]:
        start_response(
            "413 Request Entity Too Large",
            [
                ("Content-Type", "application/problem+json"),
                ("Content-Length", str(len(MESSAGE))),
                ("Connection", "close"),
            ],
        )
        return [MESSAGE]
