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
import sys
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
    assert (
        "Setting SIGMA_EMULATOR_ENABLED is true in production (HOSTSITE_ENV is not development)."
        in result.stderr
    )


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


def manage(folder: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    """``python manage.py ARGS`` in ``folder`` (its own hostsite copy and manage.py)."""
    shutil.copy(ROOT / "manage.py", folder / "manage.py")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **variables}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_without_mode_beside_a_dotenv_says_hostsite_env_first_in_two_lines(site):
    result = manage(site, "check")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("HOSTSITE_ENV is not set, so .env is not read")
    assert "HOSTSITE_ENV=development .venv/bin/python manage.py" in lines[0]
    assert lines[1].startswith("Configuration error: Setting SECRET_KEY is missing.")
    assert "Traceback" not in result.stderr
    assert LEFTOVER_SECRET_KEY not in result.stdout + result.stderr


def test_command_without_dotenv_names_the_missing_setting_in_one_line(site):
    (site / ".env").unlink()
    result = manage(site, "check")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Configuration error: Setting SECRET_KEY is missing. Generate one with: "
        'python -c "import secrets; print(secrets.token_urlsafe(64))"'
    ]


RUN_PROBE = "import hostsite.settings as s; print(s.SIGMA_API_BASE_URL)"


DEV_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "PYTHONPATH": str(ROOT),
    "HOSTSITE_ENV": "development",
}


def test_run_dotenv_fills_the_addresses_dotenv_leaves_out(site):
    (site / ".run.env").write_text("SIGMA_API_BASE_URL=http://127.0.0.1:8601\n")

    result = probe(RUN_PROBE, DEV_ENV, cwd=site)

    assert result.stdout.strip() == "http://127.0.0.1:8601", result.stderr
    assert result.stderr == ""


def test_dotenv_wins_over_run_dotenv_and_the_environment_over_both(site):
    """NEW-5: a machine-written .run.env never overrides what the developer set."""
    (site / ".run.env").write_text("SIGMA_API_BASE_URL=http://127.0.0.1:8601\n")
    with (site / ".env").open("a") as dotenv:
        dotenv.write("SIGMA_API_BASE_URL=http://127.0.0.1:8701\n")

    chosen = probe(RUN_PROBE, DEV_ENV, cwd=site)
    overridden = probe(RUN_PROBE, {**DEV_ENV, "SIGMA_API_BASE_URL": "http://127.0.0.1:9"}, cwd=site)

    assert chosen.stdout.strip() == "http://127.0.0.1:8701", chosen.stderr
    assert chosen.stderr.splitlines() == [
        ".env sets SIGMA_API_BASE_URL, so the address `make run` recorded in .run.env is not "
        "used; delete that line from .env to follow make run PORT=… EMULATOR=…."
    ]
    assert overridden.stdout.strip() == "http://127.0.0.1:9", overridden.stderr
    assert overridden.stderr == ""


def test_run_dotenv_sets_nothing_but_the_addresses(site):
    (site / ".run.env").write_text("DEBUG=false\nSIGMA_EMULATOR_ENABLED=false\n")

    result = start(site, HOSTSITE_ENV="development")

    assert result.returncode == 0, result.stderr
    assert '"DEBUG": true' in result.stdout and '"EMULATOR": true' in result.stdout
    assert [line.split(":")[:2] for line in result.stderr.splitlines()] == [
        [".run.env", " DEBUG ignored"],
        [".run.env", " SIGMA_EMULATOR_ENABLED ignored"],
    ]


def test_settings_and_write_env_agree_on_the_addresses():
    from hostsite.settings import RUN_ENV_VARIABLES
    from scripts.write_env import RUN_VARIABLES

    assert set(RUN_ENV_VARIABLES) == set(RUN_VARIABLES)


def test_write_env_writes_both_files_for_the_owner_only(tmp_path, monkeypatch, capsys):
    from scripts.write_env import main, record_run

    monkeypatch.setenv("SIGMA_API_BASE_URL", "http://127.0.0.1:8601")
    run_env = tmp_path / ".run.env"
    run_env.write_text("")
    run_env.chmod(0o644)  # left by an older make seed

    main(str(tmp_path / ".env"))
    record_run(str(run_env))

    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    assert run_env.stat().st_mode & 0o777 == 0o600
    assert "SIGMA_API_BASE_URL=http://127.0.0.1:8601" in run_env.read_text()


def test_run_dotenv_is_never_read_in_production(site):
    (site / ".run.env").write_text("SIGMA_API_BASE_URL=http://127.0.0.1:8601\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **PRODUCTION_KEYS}
    result = probe(RUN_PROBE, {**env, "ALLOWED_HOSTS": "example.com"}, cwd=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "http://127.0.0.1:8601"


def test_make_seed_records_the_demo_addresses(tmp_path, monkeypatch):
    from scripts.write_env import record_run

    monkeypatch.setenv("SIGMA_API_BASE_URL", "http://127.0.0.1:8601")
    monkeypatch.setenv("SIGMA_EMULATOR_ORIGIN", "http://127.0.0.1:8601")
    monkeypatch.delenv("SIGMA_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("SIGMA_EMULATOR_FRAME_ANCESTORS", raising=False)
    record_run(str(tmp_path / ".run.env"))
    lines = (tmp_path / ".run.env").read_text().splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        "SIGMA_EMULATOR_ORIGIN=http://127.0.0.1:8601",
        "SIGMA_API_BASE_URL=http://127.0.0.1:8601",
    ]
    assert "@$(PY) scripts/write_env.py --run .run.env\n" in (ROOT / "Makefile").read_text()


SILENCED_PROBE = "import hostsite.settings as s; print(getattr(s, 'SILENCED_SYSTEM_CHECKS', []))"


def test_sqlite_index_warning_is_silenced_in_development_only(site):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    development = probe(SILENCED_PROBE, {**env, "HOSTSITE_ENV": "development"}, cwd=site)
    assert development.stdout.strip() == "['models.W040']", development.stderr
    production = probe(SILENCED_PROBE, {**env, **PRODUCTION_KEYS, "ALLOWED_HOSTS": "x"}, cwd=site)
    assert production.stdout.strip() == "[]", production.stderr
