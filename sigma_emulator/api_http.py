"""The plumbing of the emulator's REST API: errors, the view decorator, paging.

Every endpoint of :mod:`.api` answers through :func:`api_view` (off unless the
emulator is enabled, bearer check, test faults) and pages with :func:`paginated`
or :func:`token_paginated`, in Sigma's two schemes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from .models import Credential
from .services import api_token_credential, take_api_fault

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000  # Sigma's maximum page size


def error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def api_view(*, authenticated: bool = True) -> Callable[..., Callable[..., JsonResponse]]:
    """Off unless enabled; no CSRF (bearer tokens, not cookies); test faults; bearer check."""

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if not getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
                return error(HTTPStatus.NOT_FOUND, "not_found", "Not found")
            fault = take_api_fault()
            if fault is not None:
                response = error(fault.status, "too_many_requests", "Rate limit exceeded")
                if fault.retry_after is not None:
                    response["Retry-After"] = str(fault.retry_after)
            elif authenticated and bearer_credential(request) is None:
                response = error(
                    HTTPStatus.UNAUTHORIZED, "unauthorized", "Missing or expired access token"
                )
            else:
                try:
                    response = view(request, *args, **kwargs)
                except Http404:
                    response = error(HTTPStatus.NOT_FOUND, "not_found", "Not found")
            response["Cache-Control"] = "no-store"
            return response

        return csrf_exempt(wrapper)

    return decorate


@sensitive_variables("token")
def bearer_credential(request: HttpRequest) -> Credential | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return api_token_credential(token.strip())


# --- Pagination -------------------------------------------------------------------
#
# Sigma's document has two schemes (tests/data/sigma-rest-api.openapi.json): most
# list operations take ``page``/``limit`` and answer ``nextPage`` (null on the last
# page, with ``hasMore`` and ``total``); some (``listAccountTypes``) take
# ``pageToken``/``pageSize`` and answer ``nextPageToken`` (absent on the last page).
# The token is the next offset as a decimal string, as in the document's example
# (``"nextPage": "50"``); clients must treat it as opaque.


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    return int(token) if token.isdigit() else None


def _page_window(
    request: HttpRequest, *, size_name: str, token_name: str
) -> tuple[int, int] | JsonResponse:
    try:
        limit = int(request.GET.get(size_name, DEFAULT_LIMIT))
    except ValueError:
        limit = -1
    if not 1 <= limit <= MAX_LIMIT:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"{size_name} must be 1 to {MAX_LIMIT}")
    offset = _offset(request.GET.get(token_name))
    if offset is None:
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"Invalid {token_name}")
    return offset, limit


def paginated(
    request: HttpRequest, rows: QuerySet | Sequence[Any], shape: Callable
) -> JsonResponse:
    """One page of ``rows`` shaped by ``shape``: ``page``/``limit`` → ``nextPage``."""
    window = _page_window(request, size_name="limit", token_name="page")  # noqa: S106 - a parameter name
    if isinstance(window, JsonResponse):
        return window
    offset, limit = window
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    entries = [shape(row) for row in rows[offset : offset + limit]]
    more = offset + limit < total
    return JsonResponse(
        {
            "entries": entries,
            "hasMore": more,
            "total": total,
            "nextPage": str(offset + limit) if more else None,
        }
    )


def token_paginated(
    request: HttpRequest, rows: QuerySet | Sequence[Any], shape: Callable
) -> JsonResponse:
    """One page of ``rows``: ``pageToken``/``pageSize`` → ``nextPageToken``."""
    window = _page_window(request, size_name="pageSize", token_name="pageToken")  # noqa: S106
    if isinstance(window, JsonResponse):
        return window
    offset, limit = window
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    body: dict[str, Any] = {"entries": [shape(row) for row in rows[offset : offset + limit]]}
    if offset + limit < total:
        body["nextPageToken"] = str(offset + limit)
    return JsonResponse(body)


def request_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"
