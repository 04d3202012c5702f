"""N9: ``/readyz`` tells the outside world only "ok" or "unavailable", and does not
decrypt every credential on each call.

The finding: ``/readyz`` is public and answered every caller with the result of
each check (which dependency is down), decrypting every stored secret per call.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, MultiFernet
from encrypted_model_fields import fields

from hostsite import health

OPERATOR_TOKEN = "operator-" + "T0k3n" * 8

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, settings):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(health, "_encryption_key_result", None)
    settings.METRICS_TOKEN = OPERATOR_TOKEN


@pytest.fixture
def counted_credential_checks(monkeypatch):
    calls = []
    real = health.check_key_decrypts_credentials

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(health, "check_key_decrypts_credentials", counting)
    return calls


def test_anyone_learns_only_ok(client, credential_factory):
    credential_factory()

    response = client.get("/readyz", HTTP_AUTHORIZATION="Bearer not-the-token")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_anyone_learns_only_unavailable(client, credential_factory, monkeypatch):
    credential_factory(name="Prod")
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))

    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


def test_the_operator_sees_each_check(client, credential_factory, monkeypatch):
    credential_factory(name="Prod")
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))

    response = client.get("/readyz", HTTP_AUTHORIZATION=f"Bearer {OPERATOR_TOKEN}")

    assert response.status_code == 503
    assert response.json()["checks"]["encryption_key"] == "fail"


def test_the_credential_check_is_reused_within_its_window(
    client, settings, credential_factory, counted_credential_checks
):
    credential_factory()
    settings.READYZ_CREDENTIAL_CHECK_SECONDS = 300

    for _ in range(5):
        assert client.get("/readyz").status_code == 200

    assert len(counted_credential_checks) == 1


def test_the_credential_check_runs_again_once_its_window_is_over(
    client, settings, credential_factory, counted_credential_checks
):
    credential_factory()
    settings.READYZ_CREDENTIAL_CHECK_SECONDS = 0

    for _ in range(3):
        client.get("/readyz")

    assert len(counted_credential_checks) == 3
