"""N3: a page rendering ``{% sigma_embed %}`` is never sent without the headers.

The attack surface: a site that renders the tag but has neither
``SignedURLHeadersMiddleware`` nor ``@sigma_embed_page`` sent the single-use
signed URL without ``no-store`` (a shared cache or the history keeps it) and
without ``no-referrer``, and nothing warned the integrator.
"""

from __future__ import annotations

import logging

import pytest
from django.utils.html import escape

from embeds.models import AccessRecord
from embeds.templatetags.sigma_embed import MSG_HEADERS, MSG_HEADERS_FIXER

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embeds.tag_urls")]

MIDDLEWARE = "embeds.http.SignedURLHeadersMiddleware"


@pytest.fixture
def without_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]


def test_tag_signs_nothing_on_a_page_nothing_covers(
    client, alice, embed_factory, without_middleware, caplog
):
    embed_factory(slug="sales")
    client.force_login(alice)
    caplog.set_level(logging.ERROR)

    response = client.get("/dashboard/", {"slug": "sales"})

    html = response.content.decode()
    assert ":jwt=" not in html and "data-sigma-embed" not in html
    assert 'data-refusal="headers_not_covered"' in html
    assert MSG_HEADERS in html and escape(MSG_HEADERS_FIXER) in html
    assert not AccessRecord.objects.exists()
    assert "without SignedURLHeadersMiddleware or sigma_embed_page: nothing signed" in caplog.text


def test_decorated_page_gets_the_headers_without_the_middleware(
    client, alice, embed_factory, without_middleware
):
    embed_factory(slug="sales")
    client.force_login(alice)

    response = client.get("/decorated-dashboard/", {"slug": "sales"})

    assert ":jwt=" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "frame-src https://app.sigmacomputing.com" in response["Content-Security-Policy"]


def test_page_under_the_middleware_gets_the_headers(client, alice, embed_factory):
    embed_factory(slug="sales")
    client.force_login(alice)

    response = client.get("/dashboard/", {"slug": "sales"})

    assert ":jwt=" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_streamed_page_under_the_middleware_signs_nothing(client, alice, embed_factory, caplog):
    """H2: a streamed body renders the tag after the middleware decided the headers;
    it must refuse rather than send the signed URL without no-store/no-referrer."""
    embed_factory(slug="sales")
    client.force_login(alice)
    caplog.set_level(logging.ERROR)

    response = client.get("/streamed-dashboard/", {"slug": "sales"})

    html = b"".join(response.streaming_content).decode()
    assert ":jwt=" not in html and "data-sigma-embed" not in html
    assert 'data-refusal="headers_not_covered"' in html
    assert not AccessRecord.objects.exists()
    assert "nothing signed" in caplog.text


@pytest.mark.parametrize("middleware", [True, False])
def test_decorated_streamed_page_gets_the_headers(
    client, alice, embed_factory, settings, middleware
):
    if not middleware:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    embed_factory(slug="sales")
    client.force_login(alice)

    response = client.get("/decorated-streamed-dashboard/", {"slug": "sales"})

    assert ":jwt=" in b"".join(response.streaming_content).decode()
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "frame-src https://app.sigmacomputing.com" in response["Content-Security-Policy"]
