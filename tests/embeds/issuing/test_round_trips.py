"""Redis round trips per warm request (issue #21, item 2).

Counted on the Redis client's connections (one ``send_packed_command`` is one round
trip: a pipeline sends all its commands at once), through every middleware, with
sessions in the cache as in production. A signed-in page that signs nothing (the
list of embeds) makes one: the session. A warm embed page, refresh or page with the template tag
makes exactly one more: the generation, the embed's and the user's snapshots and
the signing-rate counter together (``embeds.issuing.snapshots.lookup``).

Needs Redis: CI's second pass (CACHE_URL=redis://...); skipped otherwise.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from redis.connection import AbstractConnection

from embeds.issuing import issue
from embeds.models import AccessRecord

pytestmark = pytest.mark.django_db

WARM_REQUESTS = 3


@pytest.fixture(autouse=True)
def _redis_sessions(settings):
    if "redis" not in django_settings.CACHES["default"]["BACKEND"].lower():
        pytest.skip("counts Redis round trips: run with CACHE_URL=redis://... (CI's second pass)")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture(autouse=True)
def _touch_on_the_warming_request(monkeypatch):
    # last_used_at is touched at most once a minute per process (issue.touch_last_used):
    # with nothing touched yet, the warming request does it, never a counted one.
    monkeypatch.setattr(issue, "_last_touched", {})


@pytest.fixture
def round_trips(monkeypatch):
    sent: list[int] = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def trips_per_warm_request(client, round_trips, request) -> list[int]:
    assert request(client).status_code == 200  # warms the caches
    counts = []
    for _ in range(WARM_REQUESTS):
        before = len(round_trips)
        assert request(client).status_code == 200
        counts.append(len(round_trips) - before)
    return counts


def test_a_page_that_signs_nothing_makes_one_round_trip_the_session(alice_client, round_trips):
    # / (the list of embeds) reads the session and nothing else from the cache.
    counts = trips_per_warm_request(alice_client, round_trips, lambda c: c.get("/"))
    assert counts == [1] * WARM_REQUESTS


def page(client, slug):
    return client.get(f"/embeds/{slug}/")


def refresh(client, slug):
    return client.post(f"/embeds/{slug}/url/", "{}", content_type="application/json")


def tag(client, slug):
    return client.get(f"/dashboard/?slug={slug}")


def assert_one_round_trip_beyond_the_session(client, round_trips, slug, request_kind):
    counts = trips_per_warm_request(client, round_trips, lambda c: request_kind(c, slug))
    assert counts == [2] * WARM_REQUESTS  # the session, then the issuing path's one
    assert AccessRecord.objects.filter(outcome="issued").count() == 1 + WARM_REQUESTS


@pytest.mark.parametrize("request_kind", [page, refresh], ids=["page", "refresh"])
def test_a_warm_signed_url_costs_one_round_trip_beyond_the_session(
    alice_client, round_trips, embed_factory, request_kind
):
    embed = embed_factory(controls=[("Region", "West", True)])
    assert_one_round_trip_beyond_the_session(alice_client, round_trips, embed.slug, request_kind)


@pytest.mark.urls("tests.embeds.tag_urls")
def test_the_template_tag_costs_one_round_trip_beyond_the_session(
    alice_client, round_trips, embed_factory
):
    embed = embed_factory()
    assert_one_round_trip_beyond_the_session(alice_client, round_trips, embed.slug, tag)
