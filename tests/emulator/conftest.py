"""Fixtures of the emulator tests (the top-level conftest may import the server ones).

Tokens are built with PyJWT directly, never with ``embeds.protocol.signing``: the emulator
is the independent check of the host's signing code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.test import Client
from django.test.client import ClientHandler

from sigma_emulator.handler import URLCONF
from sigma_emulator.models import Credential
from tests.emulator.org import register_emulator_credential
from tests.emulator.server import emulator_frame_ancestors, emulator_server  # noqa: F401

NOW = 1_750_000_000
CLIENT_ID = "emulator-test-client"
SECRET = "emulator-SECRET-5d1c7a9e-do-not-leak"
WORKBOOK_PATH = "/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA"

MISSING = object()


def claims(**overrides: Any) -> dict[str, Any]:
    """The spec §1.3 payload at NOW; an override of MISSING drops the claim."""
    payload: dict[str, Any] = {
        "sub": "alice@example.com",
        "iss": CLIENT_ID,
        "aud": "sigmacomputing",
        "ver": "1.1",
        "jti": uuid.uuid4().hex,
        "iat": NOW,
        "exp": NOW + 3600,
        "account_type": "View",
        "teams": ["Sales"],
        "user_attributes": {"region": "West"},
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not MISSING}


def make_token(
    payload: dict[str, Any] | None = None,
    *,
    secret: str = SECRET,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
) -> str:
    return jwt.encode(
        claims() if payload is None else payload,
        secret,
        algorithm=algorithm,
        headers={"kid": CLIENT_ID} if headers is None else headers,
    )


class EmulatorClientHandler(ClientHandler):
    """The test client's handler, resolving like ``EmulatorHandler`` does."""

    def get_response(self, request):
        request.urlconf = URLCONF
        return super().get_response(request)


@pytest.fixture
def emulator_enabled(settings) -> None:
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.SIGMA_EMULATOR_FRAME_ANCESTORS = ["http://127.0.0.1:8000", "http://localhost:8000"]


@pytest.fixture
def emulator_client(emulator_enabled) -> Client:
    """A test client on the emulator origin (full middleware, emulator URLconf)."""
    client = Client()
    client.handler = EmulatorClientHandler(enforce_csrf_checks=False)
    return client


def make_emulator_credential() -> Credential:
    """The credential the test tokens are signed for, in an organization with team Sales."""
    return register_emulator_credential(CLIENT_ID, SECRET, name="Emulator test")


@pytest.fixture
def emulator_credential(db) -> Credential:
    return make_emulator_credential()


@pytest.fixture
def frozen_now(monkeypatch) -> int:
    """Pin the emulator views' clock to NOW."""
    from sigma_emulator import views

    monkeypatch.setattr(views, "current_time", lambda: NOW)
    return NOW


@pytest.fixture
def token_factory() -> Callable[..., str]:
    return make_token
