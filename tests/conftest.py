"""Shared fixtures: factory fixtures and the demo personas alice, bob and admin.

CANARY_SECRET is the embed secret of every credential the factories make. It is
distinctive on purpose: tests of pages, commands and logs assert it appears
nowhere in what they produce.
"""

from __future__ import annotations

import dataclasses
import itertools

import httpx
import pytest
from django.contrib.auth import get_user_model

from embeds.models import (
    AccountType,
    Credential,
    Embed,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    UserAttribute,
)
from tests.browser.chromium import browser  # noqa: F401
from tests.emulator.org import emulator_members, emulator_registers  # noqa: F401
from tests.emulator.server import emulator_frame_ancestors, emulator_server  # noqa: F401
from tests.sigma_org import sigma_org  # noqa: F401

CANARY_SECRET = "canary-SECRET-7f3b9c2e-do-not-leak-0a1b2c3d4e5f"
WORKBOOK_URL = "https://app.sigmacomputing.com/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA"
EMULATOR_ORIGIN = "http://127.0.0.1:8001"

_counter = itertools.count(1)


@dataclasses.dataclass
class ContractLog:
    """What the REST API client asked in a test (``sigma_rest_contract``)."""

    called: list[str] = dataclasses.field(default_factory=list)
    violations: list[str] = dataclasses.field(default_factory=list)


@pytest.fixture
def canary_secret() -> str:
    return CANARY_SECRET


@pytest.fixture(autouse=True)
def sigma_rest_contract(monkeypatch):
    """Every request the REST API client sends, in every test, is checked against
    Sigma's OpenAPI document (tests/sigma_openapi.py): an operation the document
    lacks, or a query parameter it does not declare, fails the test. Returns the
    log: ``called`` (the operationIds, in order) and ``violations``."""
    from embeds.remote.client import SigmaAPIClient
    from tests.sigma_openapi import ContractViolation, sigma_openapi

    log = ContractLog()
    called, violations = log.called, log.violations
    original = SigmaAPIClient.__init__

    def check(request: httpx.Request) -> None:
        try:
            called.append(sigma_openapi().check_request(request).operation_id)
        except ContractViolation as exc:
            violations.append(str(exc))
            raise

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self._http.event_hooks["request"].append(check)

    monkeypatch.setattr(SigmaAPIClient, "__init__", init)
    yield log
    # Also caught where the code under test swallows the AssertionError.
    assert not violations, violations


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache: rate-limit counters (embeds.issuing.ratelimit)
    live there and user ids repeat across tests."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def pinned_rate_clock(monkeypatch):
    """The page rate limit counts in windows aligned to the epoch
    (embeds.issuing.ratelimit), so a test whose requests straddle a window boundary
    would see its counter start again. Pinned mid-window, the count is the test's own;
    1_800_000_000 is a multiple of every window the tests use (60, 900, 3600)."""
    from types import SimpleNamespace

    from embeds.issuing import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def credential_factory(db):
    def make(**fields) -> Credential:
        n = next(_counter)
        secret = fields.pop("secret", CANARY_SECRET)
        fields.setdefault("name", f"Credential {n}")
        fields.setdefault("client_id", f"client-{n:04d}")
        fields.setdefault("owner_email", "owner@example.com")
        fields.setdefault("owner_is_admin", True)
        credential = Credential(**fields)
        credential.set_secret(secret)
        credential.save()
        return credential

    return make


@pytest.fixture
def team_factory(db):
    def make(name: str) -> Team:
        return Team.objects.get_or_create(name=name)[0]

    return make


@pytest.fixture
def embed_factory(db, credential_factory, team_factory):
    def make(*, teams=("Sales",), controls=(), **fields) -> Embed:
        n = next(_counter)
        fields.setdefault("slug", f"embed-{n}")
        fields.setdefault("title", f"Embed {n}")
        fields.setdefault("url", WORKBOOK_URL)
        if "credential" not in fields:
            fields["credential"] = credential_factory()
        embed = Embed.objects.create(**fields)
        embed.teams.set([team_factory(name) for name in teams])
        # (control ID, default, page may set it[, type]); the type defaults to text.
        for control_id, default, allow, *control_type in controls:
            embed.controls.create(
                control_id=control_id,
                default_value=default,
                allow_from_query=allow,
                type=control_type[0] if control_type else "text",
            )
        return embed

    return make


@pytest.fixture
def user_factory(db, team_factory):
    """Make a host user with a Sigma mapping (teams, account type, attributes)."""

    def make(
        username: str,
        *,
        email: str | None = None,
        teams=(),
        account_type: str | None = "View",
        attributes: dict[str, str] | None = None,
        sigma_email: str = "",
        password: str = "demo",  # noqa: S107
        **fields,
    ):
        User = get_user_model()
        user = User.objects.create_user(
            username=username,
            email=f"{username}@example.com" if email is None else email,
            password=password,
            **fields,
        )
        profile = SigmaProfile.objects.create(
            user=user,
            sigma_email=sigma_email,
            account_type=(
                AccountType.objects.get_or_create(name=account_type)[0] if account_type else None
            ),
        )
        profile.teams.set([team_factory(name) for name in teams])
        for name, value in (attributes or {}).items():
            attribute = UserAttribute.objects.get_or_create(name=name)[0]
            SigmaProfileAttribute.objects.create(profile=profile, attribute=attribute, value=value)
        return user

    return make


@pytest.fixture
def alice(user_factory):
    """Demo persona: team Sales, account type View, region=West."""
    return user_factory("alice", teams=["Sales"], attributes={"region": "West"})


@pytest.fixture
def bob(user_factory):
    """Demo persona: a valid user in no team."""
    return user_factory("bob")


@pytest.fixture
def admin_user(db):
    User = get_user_model()
    return User.objects.create_superuser("admin", "admin@example.com", "demo")
