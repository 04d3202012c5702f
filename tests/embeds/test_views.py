"""The embed page, the refresh endpoint and the error-report endpoint (embeds.views)."""

from __future__ import annotations

import json
import logging
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from embeds import views
from embeds.exceptions import RateLimited
from embeds.models import AccessRecord, EmbedErrorReport, SigmaProfile
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db

A_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImNsaWVudCJ9.eyJzdWIiOiJhbGljZUBleGFtcGxlLmNvbSJ9."
    "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)
ODD_TOKEN = "QUJDREVGR0hJSktM.TU5PUFFSU1RVVldY.WVphYmNkZWZnaGlq"  # no "eyJ" prefix


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[":jwt"][0]


def claims_of(url: str) -> dict:
    return jwt.decode(token_of(url), CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")


def data_src(html: str) -> str:
    return re.search(r'data-src="([^"]+)"', html).group(1).replace("&amp;", "&")


def post_json(client, url: str, payload=None, **extra):
    body = "" if payload is None else json.dumps(payload)
    return client.post(url, data=body, content_type="application/json", **extra)


@pytest.fixture
def embed(embed_factory):
    return embed_factory(
        # Region is a multi-select control (a list); Secret Segment a text box.
        controls=[("Region", "West", True, "list"), ("Secret Segment", "A", False)],
    )


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def refresh_url(embed) -> str:
    return f"/embeds/{embed.slug}/url/"


def report_url(embed) -> str:
    return f"/embeds/{embed.slug}/errors/"


# --- The page ------------------------------------------------------------------


def test_embed_page_mounts_through_the_script_with_everything_it_needs(
    alice_client, embed, settings
):
    response = alice_client.get(embed.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    src = data_src(html)
    assert claims_of(src)["sub"] == "alice@example.com"
    origins = json.dumps(settings.SIGMA_ALLOWED_ORIGINS).replace('"', "&quot;")
    assert f'data-sigma-origins="{origins}"' in html
    assert f'data-refresh-url="/embeds/{embed.slug}/url/"' in html
    assert f'data-error-report-url="/embeds/{embed.slug}/errors/"' in html
    assert 'data-expires-in="3600"' in html
    assert 'data-responsive-height="false"' in html
    assert 'data-frame-id="sigma-embed"' in html
    assert re.search(r'data-frame-name="sigma-[0-9a-f]{16}"', html)
    assert '<script src="/static/embeds/embed.js"></script>' in html
    # No inline script: every <script> has a src (CSP script-src 'self').
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    csp = response["Content-Security-Policy"]
    assert "frame-src " + " ".join(settings.SIGMA_ALLOWED_ORIGINS) in csp
    assert "no-store" in response["Cache-Control"]
    assert CANARY_SECRET not in html


def test_embed_page_signs_a_new_url_and_frame_name_on_every_request(alice_client, embed):
    first = alice_client.get(embed.get_absolute_url()).content.decode()
    second = alice_client.get(embed.get_absolute_url()).content.decode()
    assert claims_of(data_src(first))["jti"] != claims_of(data_src(second))["jti"]
    name = re.compile(r'data-frame-name="([^"]+)"')
    assert name.search(first).group(1) != name.search(second).group(1)


def test_embed_page_sign_out_is_a_link_because_the_page_is_no_referrer(alice_client, embed):
    response = alice_client.get(embed.get_absolute_url())
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<a class="sign-out" href="/accounts/logout/">Sign out</a>' in response.content.decode()


def test_embed_page_applies_defaults_and_allowlisted_query_controls(alice_client, embed):
    html = alice_client.get(
        embed.get_absolute_url() + "?Region=North,South%20East&Secret%20Segment=B&utm=x"
    ).content.decode()
    query = urlsplit(data_src(html)).query
    # Allowlisted control from the query, commas literal, the rest percent-encoded;
    # a control the page may not set keeps its default; unknown parameters vanish.
    assert "&Region=North,South%20East" in query
    assert "&Secret%20Segment=A" in query
    assert "utm" not in query


def test_embed_page_joins_repeated_query_values_as_one_comma_list(alice_client, embed):
    html = alice_client.get(embed.get_absolute_url() + "?Region=East&Region=West").content
    assert "&Region=East,West" in data_src(html.decode())


def test_embed_page_refuses_an_invalid_query_control_value(alice_client, embed):
    response = alice_client.get(embed.get_absolute_url() + "?Region=a%01b")
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert views.MSG_CONTROL_VALUE % {"control": "'Region'"} in html
    assert views.MSG_CONTROL_FIXER in html
    assert 'data-refusal="control_value"' in html
    assert ":jwt=" not in html
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?:bookmark=4f1c2d3e-aaaa-bbbb", "&:bookmark=4f1c2d3e-aaaa-bbbb"),
        ("?:explore=ex-123_abc", "&:explore=ex-123_abc"),
        # Sigma opens one or the other: the bookmark wins, as on refresh.
        ("?:explore=ex1&:bookmark=bm1", "&:bookmark=bm1"),
    ],
)
def test_embed_page_opens_the_place_its_link_asks_for_on_the_first_load(
    alice_client, embed, query, expected
):
    src = data_src(alice_client.get(embed.get_absolute_url() + query).content.decode())
    assert src.endswith(expected)
    assert src.count(":explore=") + src.count(":bookmark=") == 1
    # URL parameters added after signing, never claims.
    claims = claims_of(src)
    assert "explore" not in claims and "bookmark" not in claims


def test_embed_page_takes_no_other_interface_parameter_from_its_link(alice_client, embed):
    html = alice_client.get(
        embed.get_absolute_url()
        + "?:jwt=forged&:menu_position=none&:nonce=1&:theme=Dark&bookmark=bm1&explore=ex1"
    ).content.decode()
    src = data_src(html)
    query = urlsplit(src).query
    assert query.count(":jwt=") == 1 and "forged" not in query
    for name in (":menu_position", ":nonce", ":theme", ":bookmark", ":explore"):
        assert name not in query
    assert claims_of(src)["sub"] == "alice@example.com"


@pytest.mark.parametrize(
    "query",
    ["?:bookmark=a%26:jwt%3Dx", "?:explore=../x", "?:bookmark=a%20b", "?:explore=" + "x" * 129],
)
def test_embed_page_refuses_a_malformed_place_in_its_link(alice_client, embed, query):
    response = alice_client.get(embed.get_absolute_url() + query)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    name = "bookmark" if ":bookmark" in query else "explore"
    assert views.MSG_PLACE % {"name": name} in html
    assert views.MSG_CONTROL_FIXER in html
    assert 'data-refusal="place"' in html
    assert ":jwt=" not in html
    assert not AccessRecord.objects.exists()


def test_embed_page_redirects_anonymous_users_to_sign_in(client, embed):
    response = client.get(embed.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/embeds/{embed.slug}/"


def test_embed_page_error_state_markup_is_accessible(alice_client, embed):
    html = alice_client.get(embed.get_absolute_url()).content.decode()
    assert 'data-sigma-loading role="status" aria-live="polite"' in html
    assert 'data-sigma-error role="alert" hidden' in html
    assert 'aria-busy="true"' in html


# --- Refresh endpoint ------------------------------------------------------------


def test_refresh_returns_a_new_signed_url_and_records_it(alice_client, embed, caplog):
    caplog.set_level(logging.INFO)
    page = alice_client.get(embed.get_absolute_url()).content.decode()
    response = post_json(alice_client, refresh_url(embed), {})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"url", "expiresIn", "expiresAt"}
    assert data["expiresIn"] == 3600
    claims = claims_of(data["url"])
    assert claims["jti"] != claims_of(data_src(page))["jti"]
    record = AccessRecord.objects.get(source=AccessRecord.Source.REFRESH)
    assert record.jti == claims["jti"]
    assert record.outcome == AccessRecord.Outcome.ISSUED
    assert record.user.username == "alice"
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert CANARY_SECRET not in response.content.decode()
    assert f"jti={claims['jti']}" in caplog.text and "source=refresh" in caplog.text
    assert token_of(data["url"]) not in caplog.text and CANARY_SECRET not in caplog.text


def test_refresh_accepts_an_empty_body(alice_client, embed):
    response = post_json(alice_client, refresh_url(embed))
    assert response.status_code == 200
    assert claims_of(response.json()["url"])["sub"] == "alice@example.com"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"explore": "ex-123_abc"}, "&:explore=ex-123_abc"),
        ({"bookmark": "4f1c2d3e-aaaa-bbbb"}, "&:bookmark=4f1c2d3e-aaaa-bbbb"),
        # Sigma opens one or the other: the bookmark wins, as in Sigma's samples.
        ({"explore": "ex1", "bookmark": "bm1"}, "&:bookmark=bm1"),
    ],
)
def test_refresh_reopens_the_users_place_after_signing(alice_client, embed, body, expected):
    url = post_json(alice_client, refresh_url(embed), body).json()["url"]
    assert url.endswith(expected)
    assert url.count(":explore=") + url.count(":bookmark=") == 1
    # They are URL parameters, never claims.
    claims = claims_of(url)
    assert "explore" not in claims and "bookmark" not in claims


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("explore", "a&:jwt=x"),
        ("explore", "../x"),
        ("bookmark", "a b"),
        ("bookmark", 42),
        ("explore", "x" * 129),
    ],
)
def test_refresh_refuses_a_malformed_place(alice_client, embed, name, value):
    response = post_json(alice_client, refresh_url(embed), {name: value})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "place",
            "title": "This request cannot be used",
            "message": f"{views.MSG_PLACE % {'name': name}} {views.MSG_PLACE_FIXER}",
        }
    }
    assert not AccessRecord.objects.exists()


def test_refresh_applies_query_controls_like_the_page(alice_client, embed):
    url = post_json(alice_client, refresh_url(embed) + "?Region=East,West&Secret%20Segment=Z")
    query = urlsplit(url.json()["url"]).query
    assert "&Region=East,West" in query and "&Secret%20Segment=A" in query


def test_refresh_refuses_an_invalid_query_control_value(alice_client, embed):
    response = post_json(alice_client, refresh_url(embed) + "?Region=" + "x" * 1001)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "control_value"
    assert response.json()["error"]["message"] == (
        f"{views.MSG_CONTROL_VALUE % {'control': repr('Region')}} {views.MSG_CONTROL_FIXER}"
    )


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"'])
def test_refresh_refuses_a_body_that_is_not_a_json_object(alice_client, embed, body):
    response = alice_client.post(refresh_url(embed), data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_json",
        "title": "This request cannot be used",
        "message": f"{views.MSG_BAD_JSON} {views.MSG_RELOAD_FIXER}",
    }


def test_refresh_refuses_a_large_body(alice_client, embed):
    response = post_json(alice_client, refresh_url(embed), {"explore": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["error"]["message"] == (
        f"{views.MSG_TOO_LARGE % {'limit': 4096}} {views.MSG_RELOAD_FIXER}"
    )


def test_refresh_follows_the_same_rules_as_the_page(client, bob, embed):
    client.force_login(bob)
    response = post_json(client, refresh_url(embed), {})
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "no_team",
            "title": "This content is not available",
            "message": (
                "You are not in a team that may view this content. "
                "An administrator of this site can add you to one."
            ),
        }
    }
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.source) == ("refused", "no_team", "refresh")


def test_refresh_passes_on_rate_limiting_with_retry_after(alice_client, embed, monkeypatch):
    def limited(**kwargs):
        raise RateLimited("test", retry_after=17)

    monkeypatch.setattr(views.issuing, "issue_embed_url", limited)
    response = post_json(alice_client, refresh_url(embed), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "17"
    assert response.json()["error"]["code"] == "rate_limited"


def test_refresh_answers_json_401_when_signed_out(client, embed):
    response = post_json(client, refresh_url(embed), {})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "login_required",
            "title": "This request cannot be used",
            "message": f"{views.MSG_LOGIN} {views.MSG_LOGIN_FIXER}",
        }
    }
    assert not AccessRecord.objects.exists()


def test_refresh_answers_an_unknown_embed_like_one_in_no_team_of_the_user(bob, embed):
    # Issue #10: was a 404 "does not exist", which told a 403 slug from a missing one.
    client = Client()
    client.force_login(bob)
    missing = post_json(client, "/embeds/nope/url/", {})
    not_yours = post_json(client, refresh_url(embed), {})
    assert missing.status_code == not_yours.status_code == 403
    assert missing.json() == not_yours.json()
    assert missing.json()["error"]["code"] == "no_team"


def test_refresh_is_post_only(alice_client, embed):
    assert alice_client.get(refresh_url(embed)).status_code == 405
    assert not AccessRecord.objects.exists()


def test_refresh_and_reports_are_csrf_protected(alice, embed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert post_json(client, refresh_url(embed), {}).status_code == 403
    assert post_json(client, report_url(embed), {"code": "EINVAL"}).status_code == 403
    assert not AccessRecord.objects.exists()
    assert not EmbedErrorReport.objects.exists()


def test_refresh_works_with_the_csrf_token_the_page_carries(alice, embed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    html = client.get(embed.get_absolute_url()).content.decode()
    token = re.search(r'data-csrf-token="([^"]+)"', html).group(1)
    response = post_json(client, refresh_url(embed), {}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


# --- Error reports -----------------------------------------------------------------


def test_error_report_is_recorded_with_embed_and_user(alice_client, embed, caplog):
    caplog.set_level(logging.INFO)
    response = post_json(
        alice_client, report_url(embed), {"code": "EINVAL", "message": "exp cannot be in the past"}
    )
    assert response.status_code == 201
    report = EmbedErrorReport.objects.get()
    assert response.json() == {"recorded": True, "id": report.pk}
    assert (report.embed, report.embed_slug, report.user.username, report.username) == (
        embed,
        embed.slug,
        "alice",
        "alice",
    )
    assert (report.code, report.message) == ("EINVAL", "exp cannot be in the past")
    assert f"embed={embed.slug}" in caplog.text
    assert CANARY_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("message", "stored"),
    [
        (f"Invalid token {A_TOKEN} here", "Invalid token [redacted-jwt] here"),
        (f"url ?:jwt={A_TOKEN}&:embed=true", "url ?:jwt=[redacted]&:embed=true"),
        (f"odd {ODD_TOKEN}", "odd [redacted-jwt]"),
        ("line\none\ttwo\x00", "line one two"),
    ],
)
def test_error_report_never_stores_a_token(alice_client, embed, message, stored, caplog):
    caplog.set_level(logging.INFO)
    post_json(alice_client, report_url(embed), {"code": f"E {A_TOKEN}", "message": message})
    report = EmbedErrorReport.objects.get()
    assert report.code == "E [redacted-jwt]"
    assert report.message == stored
    assert A_TOKEN not in caplog.text and ODD_TOKEN not in caplog.text


def test_error_report_is_truncated_to_its_columns(alice_client, embed):
    post_json(alice_client, report_url(embed), {"code": "C" * 300, "message": "m" * 3000})
    report = EmbedErrorReport.objects.get()
    assert (report.code, report.message) == ("C" * 100, "m" * 500)


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        ({}, "report_code", views.MSG_REPORT_CODE),
        ({"code": "   "}, "report_code", views.MSG_REPORT_CODE),
        ({"code": "\x00\x01"}, "report_code", views.MSG_REPORT_CODE),
        ({"code": 5}, "report_code", views.MSG_REPORT_CODE),
        ({"code": "EINVAL", "message": ["x"]}, "report_message", views.MSG_REPORT_MESSAGE),
    ],
)
def test_error_report_refuses_bad_input(alice_client, embed, payload, code, message):
    response = post_json(alice_client, report_url(embed), payload)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": code,
        "title": "This request cannot be used",
        "message": f"{message} {views.MSG_RELOAD_FIXER}",
    }
    assert not EmbedErrorReport.objects.exists()


def test_error_reports_are_rate_limited_per_user(alice_client, embed, client, user_factory):
    for n in range(views.ERROR_REPORT_LIMIT):
        assert post_json(alice_client, report_url(embed), {"code": f"E{n}"}).status_code == 201
    response = post_json(alice_client, report_url(embed), {"code": "one too many"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= views.ERROR_REPORT_WINDOW
    assert response.json()["error"]["message"] == (
        f"{views.MSG_REPORTS_LIMITED} {views.MSG_REPORTS_LIMITED_FIXER}"
    )
    assert EmbedErrorReport.objects.count() == views.ERROR_REPORT_LIMIT
    # Another user has a counter of their own.
    other = Client()
    other.force_login(user_factory("carol", teams=["Sales"]))
    assert post_json(other, report_url(embed), {"code": "EINVAL"}).status_code == 201


def test_error_report_is_refused_for_an_embed_the_user_cannot_see(client, bob, embed):
    client.force_login(bob)
    response = post_json(client, report_url(embed), {"code": "EINVAL"})
    assert response.status_code == 404
    assert not EmbedErrorReport.objects.exists()


def test_error_report_answers_json_401_when_signed_out(client, embed):
    response = post_json(client, report_url(embed), {"code": "EINVAL"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "login_required"
    assert not EmbedErrorReport.objects.exists()


def test_place_key_with_a_trailing_newline_is_refused():
    with pytest.raises(views.InvalidEmbedRequest):
        views.place_options({"bookmark": "abc123\n"}, fixer="Reload the page.")
    assert views.place_options({"bookmark": "abc123"}, fixer="Reload the page.") == [
        (":bookmark", "abc123")
    ]


def _refusal_page(response) -> str:
    """The page body without the per-response CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize("query", ["", "?Region=%00bad"])
def test_missing_and_not_yours_embeds_get_one_identical_answer(client, bob, embed, query):
    client.force_login(bob)
    not_yours = client.get(embed.get_absolute_url() + query)
    missing = client.get("/embeds/no-such-embed/" + query)
    assert not_yours.status_code == missing.status_code == 403
    assert _refusal_page(not_yours) == _refusal_page(missing)
    assert embed.title not in _refusal_page(not_yours)
    assert 'data-refusal="no_team"' in _refusal_page(missing)
    refresh_not_yours = post_json(client, f"/embeds/{embed.slug}/url/{query}", {})
    refresh_missing = post_json(client, f"/embeds/no-such-embed/url/{query}", {})
    assert refresh_not_yours.status_code == refresh_missing.status_code == 403
    assert refresh_not_yours.json() == refresh_missing.json()
    rules = set(AccessRecord.objects.values_list("rule", "outcome"))
    assert rules == {("no_team", "refused")}


def test_blocked_user_gets_the_same_answer_for_any_slug(client, user_factory, embed):
    blocked = user_factory("carol", teams=["Sales"])
    SigmaProfile.objects.filter(user=blocked).update(is_blocked=True, blocked_reason="test")
    client.force_login(blocked)
    existing = client.get(embed.get_absolute_url())
    missing = client.get("/embeds/no-such-embed/")
    assert existing.status_code == missing.status_code == 403
    assert _refusal_page(existing) == _refusal_page(missing)
    assert embed.title not in _refusal_page(existing)


def test_unknown_slugs_count_against_the_rate_limit(settings, client, bob, pinned_rate_clock):
    settings.SIGMA_RATE_LIMIT = "2/60"
    client.force_login(bob)
    codes = [client.get(f"/embeds/probe-{n}/").status_code for n in range(3)]
    assert codes == [403, 403, 429]


def test_embed_level_refusals_still_name_the_embed_for_team_members(alice_client, embed):
    embed.is_enabled = False
    embed.save()
    response = alice_client.get(embed.get_absolute_url())
    assert response.status_code == 503
    assert embed.title in response.content.decode()


@pytest.mark.spec("2.3")
def test_embed_page_keeps_a_text_controls_commas_inside_the_value(alice_client, embed):
    embed.controls.create(control_id="Customer", default_value="", allow_from_query=True)

    html = alice_client.get(embed.get_absolute_url() + "?Customer=Smith,%20John").content
    assert "&Customer=Smith%2C%20John" in data_src(html.decode())


@pytest.mark.spec("2.3")
def test_embed_page_refuses_a_query_value_that_does_not_fit_the_control_type(alice_client, embed):
    embed.controls.create(control_id="Amount", type="number", allow_from_query=True)

    response = alice_client.get(embed.get_absolute_url() + "?Amount=lots")
    assert response.status_code == 400
    assert views.MSG_CONTROL_VALUE % {"control": "'Amount'"} in unescape(response.content.decode())
    assert not AccessRecord.objects.exists()
