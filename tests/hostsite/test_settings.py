"""Production settings of hostsite.settings: sessions, logs, metrics token."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.security import test_settings_env as settings_env

PROBE = (
    "import json, hostsite.settings as s; print(json.dumps({"
    "'SESSION_ENGINE': s.SESSION_ENGINE, 'LOG_FORMAT': s.LOG_FORMAT, "
    "'LOG_LEVEL': s.LOG_LEVEL, 'METRICS': bool(s.METRICS_TOKEN), "
    "'BENCH': s.BENCH_BARE_PAGE}))"
)


def start(**overrides: str) -> subprocess.CompletedProcess:
    """tests.security.test_settings_env's fresh-interpreter start, with our probe."""
    previous = settings_env.PROBE
    settings_env.PROBE = PROBE
    try:
        return settings_env.start(**overrides)
    finally:
        settings_env.PROBE = previous


def test_production_defaults_keep_sessions_out_of_the_database():
    result = start()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        "METRICS": False,
        "BENCH": False,
    }


@pytest.mark.parametrize(
    ("env", "engine"),
    [
        # DEBUG needs HOSTSITE_ENV=development (issue #10).
        ({"DEBUG": "true", "HOSTSITE_ENV": "development"}, "django.contrib.sessions.backends.db"),
        ({"SESSION_STORE": "db"}, "django.contrib.sessions.backends.db"),
        ({"SESSION_STORE": "signed_cookies"}, "django.contrib.sessions.backends.signed_cookies"),
        (
            {"DEBUG": "true", "HOSTSITE_ENV": "development", "SESSION_STORE": "cache"},
            "django.contrib.sessions.backends.cache",
        ),
    ],
)
def test_session_store_follows_the_environment(env, engine):
    result = start(**env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SESSION_ENGINE"] == engine


def test_json_logs_and_a_metrics_token_are_accepted():
    result = start(LOG_FORMAT="JSON", LOG_LEVEL="warning", METRICS_TOKEN="m" * 40)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert (values["LOG_FORMAT"], values["LOG_LEVEL"], values["METRICS"]) == (
        "json",
        "WARNING",
        True,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_STORE", "file", "Setting SESSION_STORE is not a session store."),
        ("LOG_FORMAT", "xml", "Setting LOG_FORMAT is not a log format."),
        ("LOG_LEVEL", "loud", "Setting LOG_LEVEL is not a log level."),
        (
            "METRICS_TOKEN",
            "s3cr3t-short-token",
            "Setting METRICS_TOKEN is too short (at least 32 characters).",
        ),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable_without_echo(name, value, message):
    result = start(**{name: value})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output
    assert "s3cr3t" not in output
