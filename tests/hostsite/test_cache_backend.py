"""hostsite.cache: Django's Redis backend with one client per server."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from hostsite.cache import RedisCache


def test_every_call_gets_the_same_client_for_a_server():
    backend = RedisCache("redis://127.0.0.1:1/0", {})
    first = backend._cache.get_client("a", write=True)
    assert backend._cache.get_client("b") is first
    assert backend._cache.get_client("c", write=True) is first


def test_reads_and_writes_keep_a_client_per_server():
    backend = RedisCache("redis://127.0.0.1:1/0,redis://127.0.0.1:2/0", {})
    writer = backend._cache.get_client(write=True)
    reader = backend._cache.get_client()
    assert writer is not reader
    assert writer.connection_pool.connection_kwargs["port"] == 1
    assert reader.connection_pool.connection_kwargs["port"] == 2
    assert backend._cache.get_client() is reader


def test_a_redis_cache_url_gets_this_backend_and_behaves_like_djangos():
    if "redis" not in settings.CACHES["default"]["LOCATION"]:
        pytest.skip("needs CACHE_URL=redis://... (CI's second pass)")
    assert settings.CACHES["default"]["BACKEND"] == "hostsite.cache.RedisCache"
    cache.set("hostsite-cache-test", {"a": 1}, timeout=10)
    assert cache.get("hostsite-cache-test") == {"a": 1}
    assert cache.add("hostsite-cache-counter", 1, timeout=10)
    assert cache.incr("hostsite-cache-counter") == 2
