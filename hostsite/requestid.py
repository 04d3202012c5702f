"""A request id for every request, on every log line written while serving it.

An incoming ``X-Request-ID`` is kept when it comes from a trusted proxy (the
direct peer is in ``TRUSTED_PROXIES``, ``embeds.http.peer_is_trusted_proxy``) and
is well-formed, so one id follows a request across proxy and app logs; from anyone
else it is ignored (a client could otherwise forge the correlation of log lines)
and a fresh one is made. The id is sent back in the response header.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from embeds.http import peer_is_trusted_proxy

# The id of the request this thread or task is serving ("-" outside one).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# Copied into every log line, so only id-like values are honoured: anything else
# (a long value, spaces, quotes, a newline forging a line) is replaced by our own.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,127}$")
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META = "HTTP_X_REQUEST_ID"


def accept_request_id(value: str | None) -> str:
    """The incoming id when well-formed, otherwise a fresh one."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Add ``record.request_id``: the current request's, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def _forget_request_id(**kwargs) -> None:
    request_id_var.set("-")


# Django logs a response's 4xx/5xx ("Forbidden: /path") after the middleware
# chain has returned, so the id is kept until the request is finished.
request_finished.connect(_forget_request_id, dispatch_uid="hostsite.requestid")


class RequestIdMiddleware:
    """Set the request id until the request finishes; echo it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.META.get(REQUEST_ID_META) if peer_is_trusted_proxy(request) else None
        request_id = accept_request_id(offered)
        request.request_id = request_id
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
