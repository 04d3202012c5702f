"""The host holding REST API + Embedding credentials of the emulated Sigma organization.

``sigma_org`` seeds the emulator's sample organization (slug ``acme``), creates
client credentials there as its Developer Access page would, and stores the same
client ID and secret in the host with the REST API privilege. ``EmulatorTransport``
hands httpx requests to the emulator's WSGI application in-process, so the emulator
answers from its own tables without a live port. Import both into a test module.
"""

from __future__ import annotations

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from embeds.models import Credential
from sigma_emulator.handler import get_emulator_application
from sigma_emulator.models import Member
from sigma_emulator.sample import seed_organization
from sigma_emulator.services import create_credential
from tests.sigma_openapi import check_exchange

EMULATOR = "http://127.0.0.1:8001"


class EmulatorTransport(httpx.BaseTransport):
    """The emulator in-process, counting requests per path. Every answer it gives
    is checked against Sigma's OpenAPI document (tests/sigma_openapi.py)."""

    def __init__(self) -> None:
        self.inner = httpx.WSGITransport(app=get_emulator_application())
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        # As Django's test client does: the handler's request signals would
        # close the test's database connection (and its open transaction) on
        # PostgreSQL; the emulator shares that connection in-process.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.inner.handle_request(request)
            # Read and close inside the window: closing the Django response is
            # what sends request_finished.
            content = b"".join(response.stream)
            response.close()
            answer = httpx.Response(response.status_code, headers=response.headers, content=content)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        check_exchange(request, answer)
        return answer


def hold_emulator_credentials(*, name: str = "Sigma") -> Credential:
    """Create credentials in the emulator (both privileges) and the same in the host."""
    seed_organization(slug="acme")
    owner = Member.objects.get(email="admin@example.com")
    emulated, secret = create_credential(
        name=name, owner=owner, embed_privilege=True, api_privilege=True
    )
    host = Credential(
        name=name,
        client_id=emulated.client_id,
        owner_email="admin@example.com",
        owner_is_admin=True,
        api_privilege=True,
    )
    host.set_secret(secret)
    host.save()
    return host


@pytest.fixture
def sigma_org(db, settings) -> Credential:
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.SIGMA_API_BASE_URL = EMULATOR
    return hold_emulator_credentials()
