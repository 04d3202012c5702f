"""N8: the emulator is refused in production, forced or not.

The attack: ``HOSTSITE_ENV=production`` with ``SIGMA_EMULATOR_ENABLED=true`` and
``SIGMA_EMULATOR_FORCE=true`` served the emulator, which accepts any token signed
with a stored secret and shows its claims.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.security.test_settings_env import GOOD_FERNET, GOOD_SECRET_KEY, ROOT, start

MESSAGE = (
    "Setting SIGMA_EMULATOR_ENABLED is true in production (HOSTSITE_ENV is not "
    "development). The emulator is a development tool and never runs in production, "
    "even with SIGMA_EMULATOR_FORCE; set SIGMA_EMULATOR_ENABLED=false."
)


@pytest.mark.parametrize("mode", ["production", None])  # None: unset means production
@pytest.mark.parametrize("force", ["true", "false"])
def test_production_refuses_the_emulator_forced_or_not(mode, force):
    result = start(HOSTSITE_ENV=mode, SIGMA_EMULATOR_ENABLED="true", SIGMA_EMULATOR_FORCE=force)

    assert result.returncode != 0
    assert MESSAGE in result.stderr
    assert GOOD_SECRET_KEY not in result.stderr + result.stdout


def test_the_documented_command_does_not_serve_it_in_production():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOSTSITE_READ_DOTENV": "0",
        "HOSTSITE_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": GOOD_FERNET,
        "ALLOWED_HOSTS": "example.com",
        "SIGMA_EMULATOR_ENABLED": "true",
        "SIGMA_EMULATOR_FORCE": "true",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "sigma_emulator", "127.0.0.1:9201"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "Setting SIGMA_EMULATOR_ENABLED is true in production" in result.stderr
    assert "Sigma emulator at" not in result.stdout
