"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` says the process answers (no I/O). ``/readyz`` says it can serve:
the database and the cache answer, every migration is applied, and
FIELD_ENCRYPTION_KEY decrypts the stored credentials (the app's own check,
``embeds.E103``, reused for ``READYZ_CREDENTIAL_CHECK_SECONDS``). Both answer JSON:
``/readyz`` says ``ok`` or ``unavailable`` to anyone, and each check's
``ok``/``fail``/``skipped`` only to a caller holding ``METRICS_TOKEN``; never
exception text, a host, a credential name or a value.

They and ``/metrics`` (``hostsite.metrics``) are answered by a middleware placed
before host validation and the HTTPS redirect: probes come straight to the
process, by IP and over plain HTTP, and must not be turned away by ALLOWED_HOSTS or
SECURE_SSL_REDIRECT. Sessions, CSRF and authentication never run for them.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

from embeds.checks.security import check_key_decrypts_credentials

from .metrics import METRICS_PATH, authorized, metrics

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
OK, FAIL, SKIPPED = "ok", "fail", "skipped"


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Names (``app.migration``) of migrations on disk not applied to ``alias``."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def check_cache() -> str:
    # A key of its own per probe, so concurrent probes never read each other's value.
    key = f"readyz:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        return OK if cache.get(key) == value else FAIL
    finally:
        cache.delete(key)


# Once every migration is applied it stays so for this process's code: a process
# never gains migration files while running. Caching the "yes" saves reading the
# migration graph on every probe; a "no" is re-checked each time.
_migrations_applied = False


def check_migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        _migrations_applied = not unapplied_migrations()
    return OK if _migrations_applied else FAIL


# (time.monotonic() of the check, its result): the credential check decrypts every
# stored secret, too much for each probe of every load balancer; its answer is
# reused for READYZ_CREDENTIAL_CHECK_SECONDS.
_encryption_key_result: tuple[float, str] | None = None


def check_encryption_key() -> str:
    # embeds.E103: stored credentials exist and the configured keys decrypt none.
    # One broken credential is not a reason to take a whole process out of the
    # load balancer (every process would fail alike); a wrong key is.
    global _encryption_key_result
    now = time.monotonic()
    ttl = float(getattr(settings, "READYZ_CREDENTIAL_CHECK_SECONDS", 15))
    if _encryption_key_result is not None and now - _encryption_key_result[0] < ttl:
        return _encryption_key_result[1]
    errors = check_key_decrypts_credentials(databases=[DEFAULT_DB_ALIAS])
    result = FAIL if errors else OK
    _encryption_key_result = (now, result)
    return result


def forget_encryption_key_result() -> None:
    """Run the credential check afresh on the next probe (tests, key rotation)."""
    global _encryption_key_result
    _encryption_key_result = None


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "migrations": check_migrations,
    "encryption_key": check_encryption_key,
}
# Checks that read the database are skipped (not run against a dead connection)
# when the database itself failed.
NEEDS_DATABASE = {"migrations", "encryption_key"}


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every readiness check; (all passed, {check: ok|fail|skipped})."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and results.get("database") != OK:
            results[name] = SKIPPED
            continue
        try:
            results[name] = check()
        except Exception as exc:  # any failure means "not ready"
            # The exception's class only: its message may hold a host name or a DSN.
            logger.warning("Readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = FAIL
    if results.get("database") != OK:
        # A failed connection stays broken in this thread; drop it so the next
        # request (or probe) reconnects.
        connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
    return all(result == OK for result in results.values()), results


def _probe_response(payload: dict, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    return _probe_response({"status": "ok"}, HTTPStatus.OK)


def readyz(request: HttpRequest) -> JsonResponse:
    """``ok`` (200) or ``unavailable`` (503); each check's result only for a caller
    holding ``METRICS_TOKEN`` (``Authorization: Bearer``), as ``/metrics`` is.

    The probe is public (load balancers call it by IP, without credentials), so
    the outside world learns "ready or not" and nothing about which dependency
    failed; the logs name the failing check for operators.
    """
    ready, results = readiness()
    payload: dict = {"status": "ok" if ready else "unavailable"}
    if settings.METRICS_TOKEN and authorized(request):
        payload["checks"] = results
    status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
    return _probe_response(payload, status)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    HEALTH_PATH: healthz,
    READY_PATH: readyz,
    METRICS_PATH: metrics,
}


class ProbeMiddleware:
    """Answer GET/HEAD on /healthz, /readyz and /metrics before anything else runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in {"GET", "HEAD"}:
            response = probe(request)
            response["X-Content-Type-Options"] = "nosniff"
            return response
        return self.get_response(request)
