"""Fixtures that make the database or the cache really unreachable for one test."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.utils.module_loading import import_string


def closed_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_database(db, tmp_path):
    """Swap the default connection for one to a database that cannot be reached:
    a closed loopback port on PostgreSQL, a file in a missing folder on SQLite.
    The test's own connection (and transaction) is put back afterwards."""
    original = connections["default"]
    settings_dict = dict(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=closed_port())
    backend = import_string(f"{settings_dict['ENGINE']}.base.DatabaseWrapper")
    broken = backend(settings_dict, "default")
    connections["default"] = broken
    try:
        yield broken
    finally:
        broken.close()
        connections["default"] = original


@pytest.fixture
def unreachable_cache():
    """Swap the default cache for a Redis client pointed at a closed port."""
    original = caches["default"]
    caches["default"] = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", {})
    try:
        yield
    finally:
        caches["default"] = original


@pytest.fixture
def apply_logging(settings):
    """Apply a logging dict for one test; Django's own configuration afterwards."""
    import logging.config

    def apply(config: dict) -> None:
        logging.config.dictConfig(config)

    yield apply
    logging.config.dictConfig(settings.LOGGING)
