"""N2: every failure of Sigma's REST API is "Sigma could not answer", never a 500.

The attack (or a broken proxy): an answer whose ``Content-Encoding`` does not
decode made httpx raise ``DecodingError``, which is not a transport error, so it
escaped the client: the admin pickers answered 500 and ``sigma_check --remote``
printed a traceback.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from tests.conftest import CANARY_SECRET

TOKEN = json.dumps({"access_token": "tok-0123456789", "expires_in": 3600}).encode()


# H1: valid JSON of another shape than Sigma's document says.
SHAPES = {
    "entries-not-objects": b'{"entries": [1, "two", null, [3], true], "nextPage": null}',
    "bare-list-not-objects": b'[1, "two"]',
    "wrong-types": json.dumps(
        {
            "entries": [
                {
                    "workbookId": "wb1",
                    "name": ["x"],
                    "url": 5,
                    "tags": "abc",
                    "isArchived": False,
                    "pageId": {"a": 1},
                    "elementId": [],
                    "teamId": 7,
                    "email": ["a@b.c"],
                    "memberId": {"x": 1},
                    "memberType": 9,
                    "isInactive": "yes",
                    "userId": [1],
                }
            ],
            "nextPage": None,
        }
    ).encode(),
    "tags-not-objects": json.dumps(
        {"entries": [{"workbookId": "wb1", "url": "u", "tags": ["v1", 2, {"name": 3}]}]}
    ).encode(),
}

# The client refuses these at its boundary: "Sigma could not answer" on every door.
NOT_A_LIST_OF_OBJECTS = {"entries-not-objects", "bare-list-not-objects"}


class HostileSigma(BaseHTTPRequestHandler):
    """Answers every request 200 with what ``self.server.mode`` says."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        mode = self.server.mode  # type: ignore[attr-defined]
        token_request = self.path.startswith("/v2/auth/token")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode in SHAPES and not token_request:
            body = SHAPES[mode]
        elif mode == "bad-encoding" or (mode == "bad-encoding-after-token" and not token_request):
            body = b"this is not gzip at all"
            self.send_header("Content-Encoding", "gzip")
        elif token_request:
            body = TOKEN
        else:
            body = b'{"entries": [' * 5000  # truncated, deeply nested JSON
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


def serve_sigma(mode, settings, credential_factory):
    """A loopback "Sigma" answering as ``mode`` says, the API credential pointing at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileSigma)
    server.mode = mode  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SIGMA_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    credential_factory(api_privilege=True)
    yield mode
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["bad-encoding", "bad-encoding-after-token", "bad-json"])
def hostile_sigma(request, settings, credential_factory):
    yield from serve_sigma(request.param, settings, credential_factory)


def test_admin_pickers_say_sigma_could_not_answer(admin_client, hostile_sigma):
    for url in (reverse("admin:embeds_embed_pick"), reverse("admin:embeds_team_sync")):
        response = admin_client.get(url)

        html = response.content.decode()
        assert response.status_code != 500, url
        assert "Sigma" in html and "Traceback" not in html
        assert CANARY_SECRET not in html


def test_sigma_check_remote_fails_with_a_message_not_a_traceback(run, hostile_sigma):
    result = run("sigma_check", "--remote")

    assert result.returncode == 1
    assert result.error.startswith("Could not check against Sigma: ")
    if hostile_sigma.startswith("bad-encoding"):
        assert "could not be read (DecodingError)" in result.error
    assert "Traceback" not in result.everything
    assert CANARY_SECRET not in result.everything


@pytest.fixture(params=list(SHAPES))
def wrong_shape_sigma(request, settings, credential_factory):
    yield from serve_sigma(request.param, settings, credential_factory)


def test_admin_pages_answer_any_json_shape_without_a_500(admin_client, wrong_shape_sigma):
    """H1: list entries that are not objects, fields of other types."""
    pick = reverse("admin:embeds_embed_pick")
    doors = [
        (pick, {}),
        (pick, {"workbook": "wb1"}),
        (pick, {"workbook": "wb1", "page": "p1"}),
        (reverse("admin:embeds_team_sync"), {}),
        (reverse("admin:embeds_embed_sigma_members"), {}),
    ]
    for url, query in doors:
        response = admin_client.get(url, query)

        html = response.content.decode()
        assert response.status_code == 200, (url, query)
        assert "Traceback" not in html
        if wrong_shape_sigma in NOT_A_LIST_OF_OBJECTS:
            assert "is not an object" in html, (url, query)


def test_commands_answer_any_json_shape_without_a_traceback(run, wrong_shape_sigma):
    for command in (("sigma_check", "--remote"), ("sigma_members",)):
        result = run(*command)

        assert "Traceback" not in result.everything, command
        if wrong_shape_sigma in NOT_A_LIST_OF_OBJECTS:
            assert result.returncode == 1, command
            assert "is not an object" in result.error, command
