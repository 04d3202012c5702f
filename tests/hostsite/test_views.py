"""/bench/bare/: the load benchmark's baseline page."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_bench_bare_page_does_not_exist_unless_enabled(client, alice, settings):
    settings.BENCH_BARE_PAGE = False
    client.force_login(alice)
    assert client.get("/bench/bare/").status_code == 404


@pytest.mark.django_db
def test_bench_bare_page_needs_login(client, settings):
    settings.BENCH_BARE_PAGE = True
    response = client.get("/bench/bare/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/bench/bare/"


@pytest.mark.django_db
def test_bench_bare_page_renders_the_embed_template_with_its_headers(
    client, alice, embed_factory, settings, django_assert_num_queries
):
    settings.BENCH_BARE_PAGE = True
    embed_factory(slug="sales", title="Sales Overview")
    client.force_login(alice)
    # Only the signed-in user is read (the session is in the cache).
    with django_assert_num_queries(1):
        bare = client.get("/bench/bare/")
    page = client.get("/embeds/sales/")
    assert bare.status_code == page.status_code == 200
    assert [t.name for t in bare.templates] == [t.name for t in page.templates]
    for header in ("Cache-Control", "Referrer-Policy", "Content-Security-Policy"):
        assert bare[header] == page[header], header
    # Same weight: within a few percent of the real page's size.
    assert abs(len(bare.content) - len(page.content)) < 0.05 * len(page.content)
    assert b":jwt=" not in bare.content
