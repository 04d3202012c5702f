"""``{% sigma_embed "slug" %}`` on a host site's own page (embeds.templatetags)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template

from embeds.exceptions import NoTeam
from embeds.frames import MSG_LOGIN, MSG_NOT_FOUND, MSG_NOT_SIGNED_IN
from embeds.http import replace_frame_sources
from embeds.models import AccessRecord
from embeds.templatetags.sigma_embed import MSG_NO_REQUEST
from tests.conftest import CANARY_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embeds.tag_urls")]


def data_srcs(html: str) -> list[str]:
    return [s.replace("&amp;", "&") for s in re.findall(r'data-src="([^"]+)"', html)]


def claims_of(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)[":jwt"][0]
    return jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")


def test_sigma_embed_renders_a_signed_frame_and_the_script_for_the_user(
    client, alice, embed_factory
):
    embed = embed_factory(slug="sales")
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": "sales"}).content.decode()
    (src,) = data_srcs(html)
    assert src.startswith(embed.url + "?")
    assert claims_of(src)["sub"] == "alice@example.com"
    assert 'data-sigma-embed aria-busy="true"' in html
    assert f'data-refresh-url="/embeds/embeds/{embed.slug}/url/"' in html
    assert html.count('<script src="/static/embeds/embed.js"></script>') == 1
    assert CANARY_SECRET not in html


def test_sigma_embed_issues_through_the_service_with_the_tag_source(client, alice, embed_factory):
    embed_factory(slug="sales")
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": "sales"}).content.decode()
    record = AccessRecord.objects.get()
    assert record.outcome == AccessRecord.Outcome.ISSUED
    assert record.source == AccessRecord.Source.TAG
    assert record.jti == claims_of(data_srcs(html)[0])["jti"]


def test_sigma_embed_includes_the_script_once_for_two_embeds(client, alice, embed_factory):
    embed_factory(slug="sales")
    embed_factory(slug="costs")
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": "sales", "second": "costs"}).content.decode()
    assert len(data_srcs(html)) == 2
    assert html.count("embeds/embed.js") == 1
    assert 'data-frame-id="sigma-embed"' in html
    assert 'data-frame-id="sigma-embed-2"' in html


def test_sigma_embed_renders_the_refusal_when_the_user_may_not_view(client, bob, embed_factory):
    embed_factory(slug="sales", title="Quarterly secrets board")
    client.force_login(bob)
    response = client.get("/dashboard/", {"slug": "sales"})
    html = response.content.decode()
    assert response.status_code == 200  # the host page still renders around it
    assert f'data-refusal="{NoTeam.code}"' in html
    assert NoTeam.message in html
    assert NoTeam.fixer in html
    assert data_srcs(html) == []
    assert "embed.js" not in html
    assert "Quarterly secrets board" not in html
    assert AccessRecord.objects.get().rule == NoTeam.code
    # Nothing signed: the page keeps the site's ordinary headers.
    assert response["Referrer-Policy"] == "same-origin"


def test_sigma_embed_asks_an_anonymous_visitor_to_sign_in(client, embed_factory):
    embed_factory(slug="sales")
    html = client.get("/dashboard/", {"slug": "sales"}).content.decode()
    assert 'data-refusal="login_required"' in html
    # Never signed in: not told that a session "has ended".
    assert MSG_NOT_SIGNED_IN in html
    assert MSG_LOGIN not in html
    assert AccessRecord.objects.count() == 0


def test_sigma_embed_says_not_found_for_an_unknown_slug(client, alice):
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": "nope"}).content.decode()
    assert 'data-refusal="not_found"' in html
    assert MSG_NOT_FOUND in html


def test_sigma_embed_without_the_request_in_context_says_how_to_fix_it(alice):
    template = Template('{% load sigma_embed %}{% sigma_embed "sales" %}')
    with pytest.raises(ImproperlyConfigured) as problem:
        template.render(Context({}))
    assert str(problem.value) == MSG_NO_REQUEST


# --- embeds.http: the headers of a page that carries a signed URL ------------------


def test_page_with_the_tag_is_no_store_no_referrer_and_frames_only_sigma(
    client, alice, embed_factory, settings
):
    embed_factory(slug="sales")
    client.force_login(alice)
    response = client.get("/dashboard/", {"slug": "sales"})
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    csp = response["Content-Security-Policy"]
    origins = " ".join(settings.SIGMA_ALLOWED_ORIGINS)
    assert f"frame-src {origins}" in csp
    assert f"child-src {origins}" in csp
    assert "frame-ancestors 'none'" in csp  # the rest of the site's policy is kept


def test_page_without_a_signed_url_keeps_the_site_headers(client, alice):
    client.force_login(alice)
    response = client.get("/plain/")
    assert "frame-src 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" not in response.get("Cache-Control", "")


def test_sigma_embed_page_decorator_sets_the_headers_on_a_template_response(client, settings):
    response = client.get("/decorated/")
    assert response.content == b"<p>framed</p>"
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    origins = " ".join(settings.SIGMA_ALLOWED_ORIGINS)
    assert f"frame-src {origins}" in response["Content-Security-Policy"]


def test_headers_are_set_whatever_the_order_of_the_csp_middleware(
    client, alice, embed_factory, settings
):
    """With django-csp listed after ours, it has already written its header: ours edits it."""
    middleware = [m for m in settings.MIDDLEWARE if m != "embeds.http.SignedURLHeadersMiddleware"]
    position = middleware.index("csp.middleware.CSPMiddleware")
    middleware.insert(position, "embeds.http.SignedURLHeadersMiddleware")
    settings.MIDDLEWARE = middleware
    embed_factory(slug="sales")
    client.force_login(alice)
    response = client.get("/dashboard/", {"slug": "sales"})
    csp = response["Content-Security-Policy"]
    origins = " ".join(settings.SIGMA_ALLOWED_ORIGINS)
    assert f"frame-src {origins}" in csp
    assert "frame-src 'none'" not in csp
    assert response["Referrer-Policy"] == "no-referrer"


def test_without_django_csp_the_app_sets_frame_src_itself(client, alice, embed_factory, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("csp.")]
    embed_factory(slug="sales")
    client.force_login(alice)
    response = client.get("/dashboard/", {"slug": "sales"})
    origins = " ".join(settings.SIGMA_ALLOWED_ORIGINS)
    assert response["Content-Security-Policy"] == f"frame-src {origins}; child-src {origins}"
    # A page without a signed URL is not given a policy it did not have.
    assert "Content-Security-Policy" not in client.get("/plain/")


def test_sigma_embed_links_the_frame_stylesheet_once_scoped_to_the_frame(
    client, alice, bob, embed_factory
):
    embed_factory(slug="sales")
    embed_factory(slug="costs")
    client.force_login(alice)
    html = client.get("/dashboard/", {"slug": "sales", "second": "costs"}).content.decode()
    assert html.count('<link rel="stylesheet" href="/static/embeds/embed.css">') == 1
    assert html.index("embeds/embed.css") < html.index("data-sigma-embed")
    client.force_login(bob)
    refused = client.get("/dashboard/", {"slug": "sales"}).content.decode()
    assert refused.count("embeds/embed.css") == 1


def test_frame_stylesheet_styles_nothing_outside_the_frame():
    from django.contrib.staticfiles import finders

    css = open(finders.find("embeds/embed.css")).read()  # noqa: PTH123, SIM115
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    selectors = [
        part.strip()
        for block in re.findall(r"([^{}]+)\{[^{}]*\}", rules)
        for part in block.split(",")
        if part.strip() and not part.strip().startswith(("@", "to", "from"))
    ]
    assert selectors
    for selector in selectors:
        assert selector.startswith(("[data-sigma-embed]", "[data-refusal]")), selector


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "default-src 'self'; frame-src 'none'; child-src 'none'",
            "default-src 'self'; frame-src https://a.example; child-src https://a.example",
        ),
        (
            "default-src 'self'",
            "default-src 'self'; frame-src https://a.example; child-src https://a.example",
        ),
        (
            "Frame-Src *;img-src data:",
            "img-src data:; frame-src https://a.example; child-src https://a.example",
        ),
    ],
)
def test_replace_frame_sources_sets_only_the_frame_directives(policy, expected):
    assert replace_frame_sources(policy, ["https://a.example"]) == expected
