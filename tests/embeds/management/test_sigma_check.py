"""manage.py sigma_check: every finding on one line; exit 0 clean, 1 errors, 2 warnings."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet, MultiFernet
from encrypted_model_fields import fields

from tests.conftest import CANARY_SECRET


@pytest.fixture
def production(settings):
    """DEBUG off, https origins, a shared cache: what a clean deployment looks like."""
    settings.DEBUG = False
    settings.SIGMA_ALLOWED_ORIGINS = ["https://app.sigmacomputing.com"]
    settings.SIGMA_EMULATOR_ENABLED = False
    # embeds.W103 (per-process cache) is about CACHE_URL, not about this test.
    settings.SILENCED_SYSTEM_CHECKS = ["embeds.W103"]
    return settings


@pytest.mark.django_db
def test_clean_configuration_exits_0(run, production, alice, embed_factory):
    embed_factory(slug="sales")
    # A clean deployment has no demo login (embeds.W104, issue #10).
    alice.set_password("a-real-Password-7")
    alice.save()

    result = run("sigma_check")

    assert (result.returncode, result.stdout) == (0, "Sigma configuration OK: no findings.\n")
    data = json.loads(run("sigma_check", "--json").stdout)
    assert data == {"ok": True, "errors": 0, "warnings": 0, "findings": []}


@pytest.mark.django_db
def test_warnings_only_exit_2(run, production, embed_factory):
    embed_factory(slug="sales")  # team Sales has nobody in it

    result = run("sigma_check")

    assert result.returncode == 2
    assert result.error == "1 warning(s)."
    assert result.stdout == (
        "WARNING embeds.W022: Team 'Sales', needed by embed 'sales', has no members: no "
        "user mapping and no group with members maps to it. Fix: Add the team to a "
        "user's or a group's Sigma mapping.\n"
    )
    data = json.loads(run("sigma_check", "--json").stdout)
    assert (data["ok"], data["errors"], data["warnings"]) == (False, 0, 1)
    assert [(f["id"], f["level"]) for f in data["findings"]] == [("embeds.W022", "warning")]


@pytest.mark.django_db
def test_errors_exit_1_and_come_first(run, production, embed_factory, monkeypatch):
    production.SIGMA_ALLOWED_ORIGINS = [
        "https://app.sigmacomputing.com",
        "http://127.0.0.1:8001",
    ]
    embed_factory(slug="sales")
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    # embeds.E102 (the library's crypter differs from the setting) is what this
    # patch also triggers; silence it to see the per-credential finding alone.
    production.SILENCED_SYSTEM_CHECKS = ["embeds.W103", "embeds.E102"]

    result = run("sigma_check")
    data = json.loads(run("sigma_check", "--json").stdout)

    assert result.returncode == 1
    ids = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert ids == [
        "ERROR embeds.E001",
        "ERROR embeds.E010",
        "ERROR embeds.E103",
        "WARNING embeds.W022",
    ]
    assert result.error == "3 error(s), 1 warning(s)."
    assert (data["errors"], data["warnings"]) == (3, 1)
    assert CANARY_SECRET not in result.everything
    assert CANARY_SECRET not in json.dumps(data)


@pytest.mark.django_db
def test_silenced_checks_are_left_out(run, production, embed_factory):
    production.SILENCED_SYSTEM_CHECKS = ["embeds.W103", "embeds.W022"]
    embed_factory(slug="sales")

    assert run("sigma_check").returncode == 0
