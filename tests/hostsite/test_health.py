"""/healthz and /readyz: JSON, no secrets, honest about each dependency."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from encrypted_model_fields import fields

from hostsite import health
from tests.conftest import CANARY_SECRET

ALL_OK = {"database": "ok", "cache": "ok", "migrations": "ok", "encryption_key": "ok"}


# The operator's view: each check's result is shown only with METRICS_TOKEN.
OPERATOR_TOKEN = "operator-" + "T0k3n" * 8


@pytest.fixture(autouse=True)
def _fresh_migration_memo(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(health, "_encryption_key_result", None)


@pytest.fixture
def client(settings):
    settings.METRICS_TOKEN = OPERATOR_TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {OPERATOR_TOKEN}")


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: pytest-django would raise on any query.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_ok_when_everything_answers(client, credential_factory):
    credential_factory()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ALL_OK}
    assert CANARY_SECRET not in response.content.decode()


@pytest.mark.django_db
def test_probes_skip_host_validation_and_https_redirect(client, settings):
    """Load balancers probe each process by IP over plain HTTP."""
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/healthz", "/readyz"):
        assert client.get(path, HTTP_HOST="10.0.0.7:8000").status_code == 200
    # Everything else still gets both.
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def test_readyz_fails_when_database_is_unreachable(client, unreachable_database, caplog):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "fail",
            "cache": "ok",
            "migrations": "skipped",
            "encryption_key": "skipped",
        },
    }
    assert "Readiness check database failed: OperationalError" in caplog.text
    # Nothing about where the database is.
    body = response.content.decode()
    assert "127.0.0.1" not in body and "sqlite" not in body.lower()


@pytest.mark.django_db
def test_readyz_fails_when_cache_is_unreachable(client, unreachable_cache, caplog):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "cache": "fail"}
    assert "Readiness check cache failed: ConnectionError" in caplog.text


@pytest.mark.django_db
def test_readyz_fails_when_a_migration_is_not_applied(client):
    MigrationRecorder.Migration.objects.filter(app="embeds").order_by("-id")[:1].get().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "migrations": "fail"}


@pytest.mark.django_db
def test_readyz_fails_when_the_key_decrypts_no_credential(client, credential_factory, monkeypatch):
    credential_factory(name="Prod")
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "encryption_key": "fail"}
    body = response.content.decode()
    assert "Prod" not in body and CANARY_SECRET not in body


@pytest.mark.django_db
def test_unapplied_migrations_lists_the_missing_one():
    latest = MigrationRecorder.Migration.objects.filter(app="embeds").order_by("-id")[:1].get()
    assert health.unapplied_migrations() == []
    latest.delete()
    assert health.unapplied_migrations() == [f"embeds.{latest.name}"]


def test_probes_only_answer_get_and_head(client, db):
    assert client.head("/healthz").status_code == 200
    # A POST falls through to the URL resolver (no such page).
    assert client.post("/healthz").status_code == 404
