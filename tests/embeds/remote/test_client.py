"""The Sigma REST API client against a scripted transport (httpx.MockTransport).

The client against the emulator's own API is tested in tests/embeds/remote/test_usage.py.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

import httpx
import pytest

from embeds.remote.client import (
    SigmaAPIAuthFailed,
    SigmaAPIClient,
    SigmaAPIError,
    SigmaAPIRateLimited,
    SigmaAPIUnreachable,
    validate_api_base_url,
)

SECRET = "api-SECRET-canary-5d1e9a7c-never-shown"  # noqa: S105
BEARER = "bearer-TOKEN-canary-0c4f2b8e"  # noqa: S105
BASE = "https://api.example.test"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A scripted Sigma: records every request, answers from a handler."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v2/auth/token":
            form = parse_qs(request.content.decode())
            if form.get("client_secret") != [SECRET] or form.get("client_id") != ["api-client"]:
                return httpx.Response(401, json={"code": "unauthorized", "message": "no"})
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"{BEARER}-{self.tokens_issued}",
                    "refresh_token": "r",
                    "token_type": "bearer",
                    "expires_in": 3600,
                },
            )
        return self.handler(request)


def make_client(script: Script, *, clock=None, sleeps=None, secret=SECRET) -> SigmaAPIClient:
    sleeps = sleeps if sleeps is not None else []
    return SigmaAPIClient(
        base_url=BASE,
        client_id="api-client",
        client_secret=secret,
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        clock=clock or FakeClock(),
    )


def teams_pages(request: httpx.Request) -> httpx.Response:
    page = request.url.params.get("page")
    pages = {
        None: ({"teamId": "t1", "name": "Sales"}, "p2"),
        "p2": ({"teamId": "t2", "name": "Finance"}, "p3"),
        "p3": ({"teamId": "t3", "name": "Ops"}, None),
    }
    entry, next_page = pages[page]
    return httpx.Response(200, json={"entries": [entry], "nextPage": next_page})


def test_list_teams_follows_next_page_to_the_end():
    script = Script(teams_pages)
    client = make_client(script)

    names = [team["name"] for team in client.list_teams()]

    assert names == ["Sales", "Finance", "Ops"]
    api_calls = [r for r in script.requests if r.url.path == "/v2/teams"]
    assert [r.url.params.get("page") for r in api_calls] == [None, "p2", "p3"]
    assert all(r.url.params.get("limit") == "1000" for r in api_calls)


def test_bearer_token_is_fetched_once_and_sent_on_every_call():
    script = Script(teams_pages)
    client = make_client(script)

    client.list_teams()
    client.list_teams()

    assert script.tokens_issued == 1
    api_calls = [r for r in script.requests if r.url.path == "/v2/teams"]
    assert {r.headers["Authorization"] for r in api_calls} == {f"Bearer {BEARER}-1"}


def test_bearer_token_is_renewed_before_it_expires():
    script = Script(lambda r: httpx.Response(200, json=[]))
    clock = FakeClock()
    client = make_client(script, clock=clock)

    client.list_connections()
    clock.now += 3600 - 60  # Sigma's hour, less the safety margin
    client.list_connections()

    assert script.tokens_issued == 2


def test_expired_bearer_token_answered_401_is_renewed_once():
    answers = iter([httpx.Response(401, json={"code": "token_expired"})])

    def handler(request):
        return next(answers, httpx.Response(200, json={"entries": [], "nextPage": None}))

    script = Script(handler)
    client = make_client(script)

    assert client.list_members() == []
    assert script.tokens_issued == 2
    member_calls = [r for r in script.requests if r.url.path == "/v2/members"]
    assert [r.headers["Authorization"] for r in member_calls] == [
        f"Bearer {BEARER}-1",
        f"Bearer {BEARER}-2",
    ]


def test_bare_list_answer_is_accepted():
    script = Script(lambda r: httpx.Response(200, json=[{"accountTypeId": "a", "name": "View"}]))

    assert make_client(script).list_account_types() == [{"accountTypeId": "a", "name": "View"}]


def test_429_is_retried_honouring_retry_after():
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503),
        ]
    )

    def handler(request):
        return next(answers, httpx.Response(200, json={"entries": [{"x": 1}], "nextPage": None}))

    sleeps: list[float] = []
    client = make_client(Script(handler), sleeps=sleeps)

    assert client.list_data_models() == [{"x": 1}]
    assert sleeps == [2.0, 1.0]  # Retry-After wins over the first backoff step


def test_429_after_every_retry_raises_rate_limited():
    client = make_client(Script(lambda r: httpx.Response(429)))

    with pytest.raises(SigmaAPIRateLimited, match="429"):
        client.list_teams()


def test_server_error_after_every_retry_names_status_and_path():
    client = make_client(Script(lambda r: httpx.Response(502, json={"message": "bad gateway"})))

    with pytest.raises(SigmaAPIError) as caught:
        client.list_workbooks()

    assert caught.value.status == 502
    assert str(caught.value) == "Sigma's API answered HTTP 502 for /v2/workbooks: 'bad gateway'"


def test_unreachable_api_raises_after_retries():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    client = SigmaAPIClient(
        base_url=BASE,
        client_id="api-client",
        client_secret=SECRET,
        transport=httpx.MockTransport(refuse),
        sleep=sleeps.append,
    )

    with pytest.raises(SigmaAPIUnreachable) as caught:
        client.list_teams()

    assert "did not answer (ConnectError) after 4 tries" in str(caught.value)
    assert sleeps == [0.5, 1.0, 2.0]


def test_wrong_secret_raises_auth_failed_without_the_secret(caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(Script(teams_pages), secret="wrong-" + SECRET)

    with pytest.raises(SigmaAPIAuthFailed) as caught:
        client.list_teams()

    assert "refused the API credential api-client (HTTP 401)" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


def test_secret_and_bearer_token_never_in_repr_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(Script(teams_pages))

    client.list_teams()

    for text in (repr(client), str(client), caplog.text):
        assert SECRET not in text
        assert BEARER not in text


def test_repeated_next_page_is_refused():
    script = Script(lambda r: httpx.Response(200, json={"entries": [{}], "nextPage": "same"}))

    with pytest.raises(SigmaAPIError, match="repeats a page"):
        make_client(script).list_teams()


def test_answer_that_is_not_json_is_a_clear_error():
    script = Script(lambda r: httpx.Response(200, content=b"<html>"))

    with pytest.raises(SigmaAPIError, match="not JSON"):
        make_client(script).list_teams()


def test_ids_in_paths_are_percent_encoded():
    script = Script(lambda r: httpx.Response(200, json=[]))

    make_client(script).list_page_elements("wb/1", "p?2")

    paths = [r.url.raw_path.decode() for r in script.requests if "workbooks" in r.url.path]
    assert paths[0].startswith("/v2/workbooks/wb%2F1/pages/p%3F2/elements?")


def test_token_request_is_form_encoded_client_credentials():
    script = Script(lambda r: httpx.Response(200, json=[]))

    make_client(script).list_teams()

    token_request = script.requests[0]
    assert token_request.method == "POST"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.content.decode())["grant_type"] == ["client_credentials"]
    assert "Authorization" not in token_request.headers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://aws-api.sigmacomputing.com", "https://aws-api.sigmacomputing.com"),
        ("https://API.example.test/", "https://api.example.test"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
    ],
)
def test_api_base_url_accepts_https_and_loopback_http(value, expected):
    assert validate_api_base_url(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "http://api.example.test",
        "https://api.example.test/v2",
        "https://user:pw@api.example.test",
        "https://api.example.test?x=1",
        "ftp://api.example.test",
        "",
    ],
)
def test_api_base_url_refuses_anything_else(value):
    with pytest.raises(ValueError, match="https://host"):
        validate_api_base_url(value)


def test_error_body_message_is_capped_and_quoted():
    long = "x" * 500 + json.dumps({"evil": "\n"})
    client = make_client(Script(lambda r: httpx.Response(400, json={"message": long})))

    with pytest.raises(SigmaAPIError) as caught:
        client.list_teams()

    assert len(str(caught.value)) < 300


def test_error_text_echoing_our_secret_or_bearer_token_is_scrubbed():
    def echo(request):
        return httpx.Response(
            500,
            json={"message": f"bad {request.headers['Authorization']} and {SECRET}"},
        )

    client = make_client(Script(echo))

    with pytest.raises(SigmaAPIError) as caught:
        client.list_teams()

    message = str(caught.value)
    assert BEARER not in message and SECRET not in message
    assert "Bearer [redacted]" in message
