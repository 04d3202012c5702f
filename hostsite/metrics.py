"""``/metrics``: Prometheus text format, for a scraper holding METRICS_TOKEN.

Off (404) unless METRICS_TOKEN is set. The scraper sends
``Authorization: Bearer <METRICS_TOKEN>``; anything else gets a 401. Served by
``hostsite.health.ProbeMiddleware`` like the probes, so a scraper can reach each
process directly (by IP, over the private network) without passing
ALLOWED_HOSTS or the HTTPS redirect.
"""

from __future__ import annotations

import hmac
import os
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

METRICS_PATH = "/metrics"


def _registry():
    # Under gunicorn every worker writes its counters to PROMETHEUS_MULTIPROC_DIR;
    # the one answering sums all of them, so each scrape sees the whole server.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    return registry


def authorized(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    # Constant-time comparison: the token must not be guessable byte by byte.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse(status=HTTPStatus.NOT_FOUND)
    if not authorized(request):
        response = HttpResponse(status=HTTPStatus.UNAUTHORIZED)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
