"""Security system checks embeds.E1xx/W1xx, and `check --deploy` in production shape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core import checks
from encrypted_model_fields import fields

from embeds.checks import security as security_checks
from embeds.checks.security import KEY_HINT
from tests.conftest import CANARY_SECRET

ROOT = Path(__file__).resolve().parents[2]


def test_security_checks_are_registered():
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    for check in (
        security_checks.check_encryption_key,
        security_checks.check_key_decrypts_credentials,
        security_checks.check_production_safety,
    ):
        assert check in registered


def test_encryption_key_check_passes_with_configured_key():
    assert security_checks.check_encryption_key() == []


@pytest.mark.parametrize("value", [None, [], ["not-a-fernet-key"]])
def test_encryption_key_check_e101_when_key_missing_or_invalid(settings, value):
    settings.FIELD_ENCRYPTION_KEY = value
    assert security_checks.check_encryption_key() == [
        checks.Error(
            "FIELD_ENCRYPTION_KEY is missing or not a list of Fernet keys.",
            hint=KEY_HINT,
            id="embeds.E101",
        )
    ]


def test_encryption_key_check_e102_when_library_uses_other_key(monkeypatch):
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    assert [m.id for m in security_checks.check_encryption_key()] == ["embeds.E102"]


@pytest.mark.django_db
def test_key_check_silent_without_database(credential_factory, monkeypatch):
    credential_factory()
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    assert security_checks.check_key_decrypts_credentials() == []


@pytest.mark.django_db
def test_key_check_passes_when_credentials_decrypt(credential_factory):
    credential_factory()
    assert security_checks.check_key_decrypts_credentials(databases=["default"]) == []


@pytest.mark.django_db
def test_key_check_e103_names_credentials_when_key_decrypts_none(
    credential_factory, monkeypatch, caplog
):
    credential_factory(name="Prod")
    credential_factory(name="Staging")
    # A wrong key: the library hands back ciphertext, the fingerprint catches it.
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    messages = security_checks.check_key_decrypts_credentials(databases=["default"])
    assert messages == [
        checks.Error(
            "FIELD_ENCRYPTION_KEY decrypts none of the 2 stored credential(s) ('Prod', "
            "'Staging'): the key is wrong or the right one was lost.",
            hint=KEY_HINT,
            id="embeds.E103",
        )
    ]
    assert "Credential 'Prod' could not be decrypted with FIELD_ENCRYPTION_KEY" in caplog.text
    assert CANARY_SECRET not in caplog.text + str(messages)


@pytest.mark.django_db
def test_key_check_leaves_single_broken_credential_to_embeds_checks(
    credential_factory, monkeypatch
):
    from embeds.models import Credential

    credential_factory(name="Good")
    broken = credential_factory(name="Broken")
    Credential.objects.filter(pk=broken.pk).update(secret_fingerprint="000000000000")
    assert security_checks.check_key_decrypts_credentials(databases=["default"]) == []


def test_production_safety_silent_with_debug(settings):
    settings.DEBUG = True
    settings.SIGMA_EMULATOR_ENABLED = True
    assert security_checks.check_production_safety() == []


def test_production_safety_warnings(settings):
    settings.DEBUG = False
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.SIGMA_RATE_LIMIT = "off"
    settings.SIGMA_LOGIN_RATE_LIMIT = "5/900"
    settings.SIGMA_LOGIN_IP_RATE_LIMIT = "off"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    messages = security_checks.check_production_safety()
    assert [(m.id, m.msg) for m in messages] == [
        (
            "embeds.W101",
            "The local Sigma emulator is enabled with DEBUG off (SIGMA_EMULATOR_FORCE).",
        ),
        ("embeds.W102", "SIGMA_RATE_LIMIT, SIGMA_LOGIN_IP_RATE_LIMIT switched off with DEBUG off."),
        (
            "embeds.W103",
            "The default cache is per process, so signing rate limits, cached "
            "sessions and the issuing-path cache do not hold across processes.",
        ),
    ]


def production_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOSTSITE_READ_DOTENV": "0",
        "DJANGO_SETTINGS_MODULE": "hostsite.settings",
        "SECRET_KEY": "Prod-" + "x7_Y" * 15,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "analytics.example.com",
        "DATABASE_URL": "sqlite:////tmp/sigma-deploy-check.sqlite3",
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        **extra,
    }


def test_check_deploy_reports_nothing_in_production_shape():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    print("\n$ manage.py check --deploy\n" + result.stdout + result.stderr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""


def test_check_deploy_warns_on_per_process_cache():
    env = production_env()
    del env["CACHE_URL"]
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "(embeds.W103) The default cache is per process" in result.stderr
    assert "security." not in result.stderr  # Django's own deploy checks stay clean


@pytest.mark.django_db
def test_demo_accounts_with_the_published_password_warn_in_production(settings, user_factory):
    settings.DEBUG = False
    user_factory("alice")
    user_factory("bob", password="a-new-Password-9")
    user_factory("admin")
    assert security_checks.check_demo_accounts() == [
        checks.Warning(
            "Demo accounts with the published password exist with DEBUG off: admin, alice.",
            hint="Delete them, deactivate them or set a new password "
            "(manage.py changepassword USERNAME); seed_demo is for development.",
            id="embeds.W104",
        )
    ]
    settings.DEBUG = True
    assert security_checks.check_demo_accounts() == []


@pytest.mark.django_db
def test_demo_accounts_check_is_quiet_when_demo_logins_are_gone(settings, user_factory):
    settings.DEBUG = False
    user_factory("alice", password="a-new-Password-9")
    user_factory("carol")  # "demo" password, but not a seed_demo account
    inactive = user_factory("bob")
    inactive.is_active = False
    inactive.save()
    assert security_checks.check_demo_accounts() == []


@pytest.mark.django_db
def test_demo_accounts_check_knows_only_the_logins_the_site_lists(settings, user_factory):
    """The app ships no demo: without SIGMA_PUBLISHED_PASSWORDS nothing is reported."""
    settings.DEBUG = False
    user_factory("alice")  # the demo's password, but this site lists no published login
    del settings.SIGMA_PUBLISHED_PASSWORDS
    assert security_checks.check_demo_accounts() == []
    settings.SIGMA_PUBLISHED_PASSWORDS = {"kiosk": "kiosk-Password-1"}
    user_factory("kiosk", password="kiosk-Password-1")
    (warning,) = security_checks.check_demo_accounts()
    assert (warning.id, warning.msg.rsplit(": ", 1)[1]) == ("embeds.W104", "kiosk.")


def test_demo_accounts_check_runs_with_check_deploy():
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert security_checks.check_demo_accounts in registered
    assert security_checks.check_demo_accounts not in checks.registry.registry.get_checks()
