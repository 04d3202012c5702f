"""Persistent database connections: on by default for a plain DATABASE_URL."""

from __future__ import annotations

import json
import os

import pytest

from tests.security import test_settings_env as settings_env

# A key left out gets Django's default (0, False) when the connection is set up.
PROBE = (
    "import json, hostsite.settings as s; d = s.DATABASES['default']; print(json.dumps("
    "{'age': d.get('CONN_MAX_AGE', 0), 'checks': d.get('CONN_HEALTH_CHECKS', False), "
    "'engine': d['ENGINE']}))"
)
POSTGRES = "postgres://app@db.example:5432/sigma"


def database_settings(**overrides: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOSTSITE_READ_DOTENV": "0",
        "SECRET_KEY": settings_env.GOOD_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings_env.GOOD_FERNET,
        "ALLOWED_HOSTS": "example.com",
        **overrides,
    }
    result = settings_env.probe(PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_plain_postgres_url_keeps_connections_and_checks_them():
    assert database_settings(DATABASE_URL=POSTGRES) == {
        "age": 600,
        "checks": True,
        "engine": "django.db.backends.postgresql",
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CONN_MAX_AGE": "0"}, (0, True)),
        ({"CONN_MAX_AGE": "60", "CONN_HEALTH_CHECKS": "false"}, (60, False)),
        ({"DATABASE_URL": POSTGRES + "?conn_max_age=30&conn_health_checks=false"}, (30, False)),
        ({"DATABASE_URL": POSTGRES + "?conn_max_age=None"}, (None, True)),
        # The variable wins over the URL's query string.
        ({"DATABASE_URL": POSTGRES + "?conn_max_age=30", "CONN_MAX_AGE": "5"}, (5, True)),
    ],
)
def test_the_environment_overrides_the_defaults(env, expected):
    values = database_settings(**{"DATABASE_URL": POSTGRES, **env})
    assert (values["age"], values["checks"]) == expected


def test_sqlite_keeps_django_defaults():
    values = database_settings()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert (values["age"], values["checks"]) == (0, False)


@pytest.mark.parametrize(
    "env",
    [
        {"CONN_MAX_AGE": "-1"},
        {"CONN_MAX_AGE": "s3cr3t"},
        {"DATABASE_URL": POSTGRES + "?conn_max_age=-5"},
        {"CONN_HEALTH_CHECKS": "s3cr3t"},
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(env):
    result = settings_env.start(**{"DATABASE_URL": POSTGRES, **env})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    name = next(iter(k for k in env if k != "DATABASE_URL"), "CONN_MAX_AGE")
    assert f"Setting {name}" in output
    assert "s3cr3t" not in output
