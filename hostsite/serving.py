"""Checks the production server runs before it forks workers (``make serve``).

``hostsite/gunicorn.conf.py`` calls :func:`preflight` from gunicorn's
``on_starting`` hook, so ``make serve``, the Dockerfile and any other way of
starting gunicorn with that config refuse to serve when the process could only
fail: debug mode on, the database unreachable, migrations not applied, or several
workers sharing nothing but a per-process cache for sessions and rate limits.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError

from .health import unapplied_migrations

MSG_DEBUG = (
    "DEBUG is on, and this is the production server. Set DEBUG=false (a .env "
    "written by `make run` turns it on), or use `make run` for development."
)
MSG_DATABASE = "The database cannot be reached (%(error)s). Check DATABASE_URL."
MSG_MIGRATIONS = (
    "%(count)d migration(s) are not applied (%(names)s). Run "
    "`python manage.py migrate`, then start the server again."
)
MSG_LOCAL_CACHE = (
    "%(workers)d workers would each keep their own cache (CACHE_URL is unset or "
    "local memory), so sign-ins (SESSION_STORE=cache) and rate limits would not be "
    "shared. Set CACHE_URL=redis://host:6379/0, or WEB_CONCURRENCY=1."
)


def preflight(*, workers: int) -> list[str]:
    """What stops this configuration from serving; empty when it may start."""
    problems: list[str] = []
    if settings.DEBUG:
        problems.append(MSG_DEBUG)
    try:
        pending = unapplied_migrations()
    except DatabaseError as exc:
        # The class only: the driver's message can hold the host and user name.
        problems.append(MSG_DATABASE % {"error": type(exc).__name__})
    else:
        if pending:
            names = ", ".join(pending[:5]) + (" …" if len(pending) > 5 else "")
            problems.append(MSG_MIGRATIONS % {"count": len(pending), "names": names})
    if workers > 1 and isinstance(caches["default"], LocMemCache):
        problems.append(MSG_LOCAL_CACHE % {"workers": workers})
    return problems
