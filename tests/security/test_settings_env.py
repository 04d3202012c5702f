"""hostsite.settings started in a fresh interpreter with bad environment values.

Each bad value must stop start-up with a message naming the variable, and the
value itself must appear nowhere in the output (secrets end up in CI logs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET_KEY = "k" * 20 + "Zq9-Xw7_Vu5-Ts3_Rp1-On8_Ml6-Kj4"  # 51 url-safe characters
GOOD_FERNET = Fernet.generate_key().decode()

PROBE = (
    "import json, hostsite.settings as s; print(json.dumps({"
    "'SECRET_KEY_OK': bool(s.SECRET_KEY), 'DEBUG': s.DEBUG, "
    "'HSTS': s.SECURE_HSTS_SECONDS, 'PRELOAD': s.SECURE_HSTS_PRELOAD, "
    "'SSL': s.SECURE_SSL_REDIRECT, 'RATE': s.SIGMA_RATE_LIMIT, "
    "'EMULATOR': s.SIGMA_EMULATOR_ENABLED, "
    "'CSP_REPORT': s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri')}))"
)


def start(**overrides: str) -> subprocess.CompletedProcess:
    """Import hostsite.settings with a clean, production-like environment."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOSTSITE_READ_DOTENV": "0",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": GOOD_FERNET,
        "ALLOWED_HOSTS": "example.com",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return probe(PROBE, env)


def probe(code: str, env: dict[str, str], *, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with exactly ``env``."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_start_with_good_values_and_production_defaults():
    result = start()
    assert result.returncode == 0, result.stderr
    assert '"DEBUG": false' in result.stdout
    assert '"HSTS": 31536000' in result.stdout
    assert '"PRELOAD": true' in result.stdout
    assert '"SSL": true' in result.stdout
    assert '"RATE": "60/60"' in result.stdout
    assert '"EMULATOR": false' in result.stdout


BAD_VALUES = [
    # (variable, bad value, expected fragment of the one-line message)
    ("SECRET_KEY", None, "Setting SECRET_KEY is missing."),
    ("SECRET_KEY", "", "Setting SECRET_KEY is missing."),
    ("SECRET_KEY", "django-insecure-" + "x9" * 30, "Setting SECRET_KEY is a default or too short"),
    ("SECRET_KEY", "$hort-but-secret-Pa55", "Setting SECRET_KEY is a default or too short"),
    ("FIELD_ENCRYPTION_KEY", None, "Setting FIELD_ENCRYPTION_KEY is missing."),
    (
        "FIELD_ENCRYPTION_KEY",
        "$notAFernetKey-s3cr3t",
        "Setting FIELD_ENCRYPTION_KEY entry 1 is not a Fernet key",
    ),
    (
        "FIELD_ENCRYPTION_KEY",
        f"{GOOD_FERNET},$HOME-s3cr3t",
        "Setting FIELD_ENCRYPTION_KEY entry 2 is not a Fernet key",
    ),
    ("DEBUG", "$maybe-s3cr3t", "Setting DEBUG is not a boolean."),
    ("SECURE_HSTS_SECONDS", "$HSTS_s3cr3t", "Setting SECURE_HSTS_SECONDS starts with '$'."),
    ("SECURE_HSTS_SECONDS", "lots-s3cr3t", "Setting SECURE_HSTS_SECONDS is not valid."),
    ("SECURE_HSTS_SECONDS", "-5", "Setting SECURE_HSTS_SECONDS is negative."),
    ("SESSION_COOKIE_AGE", "5", "Setting SESSION_COOKIE_AGE is below 60 seconds."),
    ("SIGMA_RATE_LIMIT", "$60/s3cr3t", "Setting SIGMA_RATE_LIMIT is not a rate."),
    ("SIGMA_RATE_LIMIT", "0/60", "Setting SIGMA_RATE_LIMIT is not a rate."),
    ("SIGMA_LOGIN_RATE_LIMIT", "five-s3cr3t", "Setting SIGMA_LOGIN_RATE_LIMIT is not a rate."),
    ("SIGMA_LOGIN_IP_RATE_LIMIT", "50/-1", "Setting SIGMA_LOGIN_IP_RATE_LIMIT is not a rate."),
    ("SIGMA_AUDIT_RETENTION_DAYS", "0", "Setting SIGMA_AUDIT_RETENTION_DAYS is below 1."),
    (
        "SIGMA_AUDIT_RETENTION_DAYS",
        "$DAYS_s3cr3t",
        "Setting SIGMA_AUDIT_RETENTION_DAYS starts with '$'.",
    ),
    (
        "CSP_REPORT_URI",
        "http://reports.example.com/s3cr3t",
        "Setting CSP_REPORT_URI is not an https URL or a path.",
    ),
    (
        "CSP_REPORT_URI",
        "https://x.example.com/a; script-src *",
        "Setting CSP_REPORT_URI is not an https URL or a path.",
    ),
    (
        "SIGMA_EMULATOR_ENABLED",
        "true",
        "Setting SIGMA_EMULATOR_ENABLED is true in production (HOSTSITE_ENV is not development).",
    ),
    (
        "TRUSTED_PROXIES",
        "10.0.0.0/8,proxy-s3cr3t.internal",
        "Setting TRUSTED_PROXIES entry 2 is not an address or CIDR range.",
    ),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_settings_refuse_bad_value_naming_variable_without_echo(name, value, message):
    result = start(**{name: value})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ImproperlyConfigured" in output
    assert message in output
    if value and ("s3cr3t" in value or "Pa55" in value or len(value) > 20):
        # Neither a distinctive value nor its tail is repeated anywhere. (Short
        # values such as "true" or "0/60" also occur in the hint text.)
        assert value not in output
        assert "s3cr3t" not in output
        assert "Pa55" not in output
    assert GOOD_SECRET_KEY not in output
    assert GOOD_FERNET not in output


def test_settings_read_dollar_secret_key_literally():
    """A SECRET_KEY starting with '$' is a value, not a reference to another variable."""
    dollar_key = "$" + GOOD_SECRET_KEY
    result = start(SECRET_KEY=dollar_key)
    assert result.returncode == 0, result.stderr
    code = "import os, hostsite.settings as s; print(s.SECRET_KEY == os.environ['SECRET_KEY'])"
    env_check = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOSTSITE_READ_DOTENV": "0",
            "SECRET_KEY": dollar_key,
            "FIELD_ENCRYPTION_KEY": GOOD_FERNET,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_check.stdout.strip() == "True", env_check.stderr
    assert dollar_key not in env_check.stdout + env_check.stderr


def test_settings_allow_emulator_with_debug_off_only_when_forced_in_development():
    unforced = start(SIGMA_EMULATOR_ENABLED="true", HOSTSITE_ENV="development")
    forced = start(
        SIGMA_EMULATOR_ENABLED="true", SIGMA_EMULATOR_FORCE="true", HOSTSITE_ENV="development"
    )
    assert unforced.returncode != 0
    assert "Setting SIGMA_EMULATOR_ENABLED is true while DEBUG is off." in unforced.stderr
    assert forced.returncode == 0, forced.stderr
    assert '"EMULATOR": true' in forced.stdout


def test_settings_allow_emulator_with_debug_on():
    # DEBUG needs the explicit development mode (HOSTSITE_ENV, issue #10).
    result = start(SIGMA_EMULATOR_ENABLED="true", DEBUG="true", HOSTSITE_ENV="development")
    assert result.returncode == 0, result.stderr


def test_settings_put_csp_report_uri_into_policy():
    result = start(CSP_REPORT_URI="https://reports.example.com/csp")
    assert result.returncode == 0, result.stderr
    assert '"CSP_REPORT": ["https://reports.example.com/csp"]' in result.stdout
