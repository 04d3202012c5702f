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


class HostileSigma(BaseHTTPRequestHandler):
    """Answers every request 200 with what ``self.server.mode`` says."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        mode = self.server.mode  # type: ignore[attr-defined]
        token_request = self.path.startswith("/v2/auth/token")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode == "bad-encoding" or (mode == "bad-encoding-after-token" and not token_request):
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


@pytest.fixture(params=["bad-encoding", "bad-encoding-after-token", "bad-json"])
def hostile_sigma(request, settings, credential_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileSigma)
    server.mode = request.param  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SIGMA_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    credential_factory(api_privilege=True)
    yield request.param
    server.shutdown()
    server.server_close()


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
