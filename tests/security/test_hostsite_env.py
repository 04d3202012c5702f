"""HOSTSITE_ENV: development is explicit; anything else is production, which never
reads a .env and refuses DEBUG.

Each case imports a copy of hostsite/settings.py in a fresh interpreter, in a
folder of its own with a leftover development .env beside it (as `make run`
leaves one), so the developer's own .env is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.write_env import TEMPLATE
from tests.security.test_settings_env import GOOD_FERNET, GOOD_SECRET_KEY, ROOT, probe

PROBE = (
    "import json, hostsite.settings as s; print(json.dumps({"
    "'MODE': s.HOSTSITE_ENV, 'DEBUG': s.DEBUG, 'EMULATOR': s.SIGMA_EMULATOR_ENABLED, "
    "'SSL': s.SECURE_SSL_REDIRECT, 'COOKIE_SECURE': s.SESSION_COOKIE_SECURE}))"
)
LEFTOVER_SECRET_KEY = "L" * 20 + "eftover-dev-key_Zq9-Xw7_Vu5-Ts3"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the settings package with a development .env beside it."""
    shutil.copytree(ROOT / "hostsite", tmp_path / "hostsite")
    (tmp_path / ".env").write_text(
        TEMPLATE.format(secret_key=LEFTOVER_SECRET_KEY, field_key=GOOD_FERNET)
    )
    return tmp_path


def start(folder: Path, **variables: str) -> subprocess.CompletedProcess:
    # The folder comes first on sys.path (its hostsite copy); the rest of the
    # project (embeds, ...) from the checkout.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **variables}
    return probe(PROBE, env, cwd=folder)


PRODUCTION_KEYS = {"SECRET_KEY": GOOD_SECRET_KEY, "FIELD_ENCRYPTION_KEY": GOOD_FERNET}


def test_without_hostsite_env_a_leftover_dotenv_is_not_read(site):
    result = start(site, **PRODUCTION_KEYS, ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '{"MODE": "production", "DEBUG": false, "EMULATOR": false, "SSL": true, '
        '"COOKIE_SECURE": true}'
    )


def test_without_hostsite_env_missing_keys_are_not_taken_from_dotenv(site):
    result = start(site)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Setting SECRET_KEY is missing." in output
    assert ".env is read only with HOSTSITE_ENV=development" in output
    assert LEFTOVER_SECRET_KEY not in output


def test_development_mode_reads_dotenv_with_debug_and_emulator(site):
    result = start(site, HOSTSITE_ENV="development")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '{"MODE": "development", "DEBUG": true, "EMULATOR": true, "SSL": false, '
        '"COOKIE_SECURE": false}'
    )


@pytest.mark.parametrize("mode", ["production", "", "PRODUCTION"])
def test_debug_is_refused_outside_development(site, mode):
    result = start(site, **PRODUCTION_KEYS, HOSTSITE_ENV=mode, DEBUG="true")
    assert result.returncode != 0
    assert "Setting DEBUG is true outside development." in result.stderr


def test_emulator_is_refused_outside_development(site):
    result = start(site, **PRODUCTION_KEYS, SIGMA_EMULATOR_ENABLED="true")
    assert result.returncode != 0
    assert "Setting SIGMA_EMULATOR_ENABLED is true while DEBUG is off." in result.stderr


def test_unknown_mode_is_refused_without_echo(site):
    result = start(site, **PRODUCTION_KEYS, HOSTSITE_ENV="staging-s3cr3t")
    assert result.returncode != 0
    assert "Setting HOSTSITE_ENV is neither development nor production." in result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr


def test_make_run_dotenv_declares_development():
    assert "HOSTSITE_ENV=development\n" in TEMPLATE
    assert "HOSTSITE_ENV=development\n" in (ROOT / ".env.example").read_text()
    assert "run seed migrate env: export HOSTSITE_ENV ?= development" in (
        (ROOT / "Makefile").read_text()
    )
