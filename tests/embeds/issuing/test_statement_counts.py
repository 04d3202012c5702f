"""SQL statements per embed page, refresh and template tag (issues #12 and #21).

Counted over a real client request, through every middleware, with sessions out of
the database, once the shared caches are warm: two statements (the user row and
the audit insert; the ``last_used_at`` touch, at most once a minute per process,
is made by the warming request), and the same number however much data the site
holds.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from embeds import issuing
from embeds.issuing import issue, snapshots
from embeds.models import AccessRecord, AccountType, Credential, GroupMapping

pytestmark = pytest.mark.django_db

MAX_STATEMENTS = 2
WARM_REQUESTS = 4


@pytest.fixture(autouse=True)
def _sessions_out_of_the_database(settings):
    # Production keeps sessions in the cache; say so here whatever the default is.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture(autouse=True)
def _touch_on_the_warming_request(monkeypatch):
    # last_used_at is touched at most once a minute per process: with nothing touched
    # yet, the warming request does it, so no counted request depends on the clock.
    monkeypatch.setattr(issue, "_last_touched", {})


@pytest.fixture
def embed(embed_factory):
    return embed_factory(controls=[("Region", "West", True), ("Segment", "A", False)])


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def page(client, embed):
    return client.get(embed.get_absolute_url(), {"Region": "East"})


def refresh(client, embed):
    return client.post(
        f"/embeds/{embed.slug}/url/?Region=East",
        data='{"bookmark": "b-1"}',
        content_type="application/json",
    )


def statements_per_request(client, embed, request) -> list[int]:
    """Statements of each of WARM_REQUESTS requests, after one that warms the caches."""
    assert request(client, embed).status_code == 200
    counts = []
    for _ in range(WARM_REQUESTS):
        with CaptureQueriesContext(connection) as queries:
            response = request(client, embed)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts


def add_bulk(user_factory, embed_factory, team_factory, user):
    """Grow everything the issuing path reads: teams, groups, attributes, embeds, audit."""
    teams = [team_factory(f"Team {n}") for n in range(30)]
    build = AccountType.objects.get_or_create(name="View")[0]
    for n in range(8):
        group = Group.objects.create(name=f"group-{n}")
        mapping = GroupMapping.objects.create(group=group, account_type=build)
        mapping.teams.set(teams[n : n + 5])
        user.groups.add(group)
    profile = user.sigma_profile
    profile.teams.add(*teams[:10])
    for n in range(20):
        user_factory(f"other-{n}", teams=[f"Team {n}"], attributes={"region": "East"})
    for n in range(10):
        embed_factory(teams=[f"Team {n}", "Sales"])
    AccessRecord.objects.bulk_create(
        AccessRecord(
            created_at=profile.user.date_joined,
            outcome=AccessRecord.Outcome.ISSUED,
            source=AccessRecord.Source.PAGE,
            user=user,
            username=user.username,
        )
        for _ in range(500)
    )


@pytest.mark.parametrize("request_kind", [page, refresh], ids=["page", "refresh"])
def test_request_runs_at_most_two_statements_when_caches_are_warm(
    alice_client, embed, request_kind
):
    counts = statements_per_request(alice_client, embed, request_kind)
    assert max(counts) <= MAX_STATEMENTS, counts
    assert AccessRecord.objects.filter(outcome="issued").count() == 1 + WARM_REQUESTS


@pytest.mark.parametrize("request_kind", [page, refresh], ids=["page", "refresh"])
def test_statement_count_does_not_grow_with_data(
    alice, alice_client, embed, user_factory, embed_factory, team_factory, request_kind
):
    small = statements_per_request(alice_client, embed, request_kind)
    add_bulk(user_factory, embed_factory, team_factory, alice)
    large = statements_per_request(alice_client, embed, request_kind)
    assert max(large) <= MAX_STATEMENTS, large
    assert max(large) == max(small)


def test_each_warm_statement_is_the_user_the_audit_row_or_the_usage_touch(alice_client, embed):
    assert page(alice_client, embed).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert page(alice_client, embed).status_code == 200
    tables = [q["sql"].split()[0].upper() for q in queries]
    # One read of the signed-in user (AuthenticationMiddleware) and one INSERT ...
    # SELECT, which is the commit point of the issued URL.
    assert tables == ["SELECT", "INSERT"], [q["sql"][:80] for q in queries]
    assert "auth_user" in queries[0]["sql"]
    assert "embeds_accessrecord" in queries[1]["sql"]


def test_last_used_is_written_once_per_interval(alice, embed_factory, monkeypatch):
    monkeypatch.setattr(issue, "_last_touched", {})  # this process has touched nothing
    embed = embed_factory()
    target = snapshots.embed_snapshot(slug=embed.slug)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            issuing.issue_embed_url(user=alice, embed=target, source="page")
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and "last_used_at" in updates[0]
    assert Credential.objects.get(pk=embed.credential_id).last_used_at is not None


@pytest.mark.urls("tests.embeds.tag_urls")
def test_a_page_with_the_tag_runs_the_pages_two_statements_when_warm(alice_client, embed):
    """{% sigma_embed %} reads the embed through the same cache as the embed page."""
    path = f"/dashboard/?slug={embed.slug}"
    assert 'data-sigma-embed aria-busy="true"' in alice_client.get(path).content.decode()
    for _ in range(WARM_REQUESTS):
        with CaptureQueriesContext(connection) as queries:
            response = alice_client.get(path)
        assert response.status_code == 200
        assert 'data-sigma-embed aria-busy="true"' in response.content.decode()
        tables = [q["sql"].split()[0].upper() for q in queries]
        assert tables == ["SELECT", "INSERT"], [q["sql"][:80] for q in queries]
        assert "auth_user" in queries[0]["sql"]
        assert "embeds_accessrecord" in queries[1]["sql"]
    sources = AccessRecord.objects.filter(outcome="issued").values_list("source", flat=True)
    assert set(sources) == {"tag"}
