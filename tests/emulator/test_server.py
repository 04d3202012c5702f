"""The emulator on a live port (the ``emulator_server`` fixture), fetched over HTTP."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from http import HTTPStatus

import pytest

from sigma_emulator.models import Credential
from sigma_emulator.verify import MSG_INVALID_PATH, MSG_REPLAY
from tests.emulator.conftest import WORKBOOK_PATH, claims, make_emulator_credential, make_token


def fetch(address: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def live_credential(transactional_db) -> Credential:
    return make_emulator_credential()


def test_emulator_server_serves_a_signed_workbook(emulator_server, live_credential):
    import time

    now = int(time.time())
    address = (
        f"{emulator_server.url}{WORKBOOK_PATH}/page/GHs4vJQxig"
        f"?:jwt={make_token(claims(iat=now, exp=now + 600))}&:embed=true&Region=West"
    )

    status, headers, html = fetch(address)

    assert emulator_server.url.startswith("http://127.0.0.1:")
    assert status == HTTPStatus.OK
    assert "Signed in as alice@example.com" in html
    assert '<dd id="page-id">GHs4vJQxig</dd>' in html
    assert headers["Cache-Control"] == "no-store"
    assert "X-Frame-Options" not in headers
    # A URL is single use, also across the wire.
    status, _, html = fetch(address)
    assert status == HTTPStatus.UNAUTHORIZED
    assert MSG_REPLAY in html


def test_emulator_server_serves_its_script(emulator_server):
    status, headers, body = fetch(f"{emulator_server.url}/static/sigma_emulator/emulator.js")

    assert status == HTTPStatus.OK
    assert "javascript" in headers["Content-Type"]
    assert "workbook:pageheight:onchange" in body


def test_emulator_server_never_serves_host_urls(emulator_server):
    status, headers, html = fetch(f"{emulator_server.url}/admin/login/")

    assert status == HTTPStatus.NOT_FOUND
    assert MSG_INVALID_PATH in html
    assert "Django administration" not in html


def test_emulator_server_accepts_frames_from_the_given_host(emulator_server, settings):
    emulator_server.allow_frames_from("http://localhost:8765")

    _, headers, _ = fetch(f"{emulator_server.url}/nowhere")

    ancestors = re.search(r"frame-ancestors ([^;]+)", headers["Content-Security-Policy"])
    assert ancestors is not None
    assert "http://localhost:8765" in ancestors.group(1).split()
    assert settings.SIGMA_EMULATOR_ENABLED is True
    assert settings.SIGMA_EMULATOR_ORIGIN == emulator_server.url
    assert emulator_server.url in settings.SIGMA_ALLOWED_ORIGINS


def test_emulator_server_frames_for_the_live_server(live_server, emulator_server):
    _, headers, html = fetch(f"{emulator_server.url}/nowhere")

    assert f"frame-ancestors {live_server.url}" in headers["Content-Security-Policy"]
    data = re.search(r'type="application/json">(.*?)</script>', html, re.S)
    assert data is not None
    assert json.loads(data.group(1))["frameAncestors"] == [live_server.url]
