"""System checks embeds.E0xx/W0xx (embeds/checks.py)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.contrib.auth.models import Group
from django.core import checks
from django.core.management import call_command
from django.db import connection
from encrypted_model_fields import fields

from embeds.checks import config as embed_checks
from embeds.models import Credential, Embed, GroupMapping, SigmaProfile, Team, secret_fingerprint
from tests.conftest import CANARY_SECRET

HTTPS_ONLY = ["https://app.sigmacomputing.com"]


def db_findings():
    return embed_checks.check_sigma_credentials(
        databases=["default"]
    ) + embed_checks.check_sigma_embeds(databases=["default"])


def test_checks_are_registered_with_their_tags():
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert embed_checks.check_sigma_settings in registered
    assert embed_checks.check_sigma_credentials in registered
    assert embed_checks.check_sigma_embeds in registered
    assert embed_checks.check_sigma_settings.tags == (checks.Tags.security,)
    assert embed_checks.check_sigma_credentials.tags == (checks.Tags.database,)
    assert embed_checks.check_sigma_embeds.tags == (checks.Tags.database,)
    assert set(embed_checks.sigma_checks()) >= {
        embed_checks.check_sigma_settings,
        embed_checks.check_sigma_credentials,
        embed_checks.check_sigma_embeds,
    }


# --- settings ------------------------------------------------------------------------


def test_e001_http_origin_with_debug_off(settings):
    settings.DEBUG = False
    settings.SIGMA_ALLOWED_ORIGINS = HTTPS_ONLY + ["http://127.0.0.1:8001"]
    assert embed_checks.check_sigma_settings() == [
        checks.Error(
            "SIGMA_ALLOWED_ORIGINS lists a non-https origin while DEBUG is off.",
            hint="Only the local emulator uses http; list https origins in production.",
            id="embeds.E001",
        )
    ]


def test_settings_clean_with_https_origins_or_debug(settings):
    settings.DEBUG = False
    settings.SIGMA_ALLOWED_ORIGINS = HTTPS_ONLY
    assert embed_checks.check_sigma_settings() == []
    settings.DEBUG = True
    settings.SIGMA_ALLOWED_ORIGINS = HTTPS_ONLY + ["http://127.0.0.1:8001"]
    assert embed_checks.check_sigma_settings() == []


def test_e003_no_allowed_origins(settings):
    settings.SIGMA_ALLOWED_ORIGINS = []
    assert embed_checks.check_sigma_settings() == [
        checks.Error(
            "SIGMA_ALLOWED_ORIGINS is empty, so no embed URL can be valid.",
            hint="Set SIGMA_ALLOWED_ORIGINS=https://app.sigmacomputing.com (or your Sigma origin).",
            id="embeds.E003",
        )
    ]


# --- database checks: inert without a database -----------------------------------------


@pytest.mark.django_db
def test_database_checks_are_inert_without_databases(embed_factory):
    embed = embed_factory()
    Credential.objects.filter(pk=embed.credential_id).update(secret_fingerprint="0" * 12)
    assert embed_checks.check_sigma_credentials() == []
    assert embed_checks.check_sigma_embeds() == []
    assert embed_checks.check_sigma_credentials(databases=None) == []
    assert len(embed_checks.check_sigma_credentials(databases=["default"])) == 1


@pytest.mark.django_db
def test_database_checks_are_inert_before_the_tables_exist(embed_factory, monkeypatch):
    embed = embed_factory()
    Credential.objects.filter(pk=embed.credential_id).update(secret_fingerprint="0" * 12)
    monkeypatch.setattr(connection.introspection, "table_names", lambda *a, **k: [])
    assert db_findings() == []


@pytest.mark.django_db
def test_clean_configuration_has_no_database_findings(alice, embed_factory):
    embed_factory()
    assert db_findings() == []


# --- credentials -------------------------------------------------------------------------


@pytest.mark.django_db
def test_e010_credential_that_does_not_decrypt(credential_factory, monkeypatch):
    credential = credential_factory(name="Prod")
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    credential = Credential.objects.get(pk=credential.pk)
    assert embed_checks.check_sigma_credentials(databases=["default"]) == [
        checks.Error(
            "Credential 'Prod' does not decrypt with FIELD_ENCRYPTION_KEY.",
            hint="Put back the key that encrypted it (FIELD_ENCRYPTION_KEY lists keys newest "
            "first), or enter the secret again with `manage.py sigma_credentials rotate "
            "'Prod'`.",
            obj=credential,
            id="embeds.E010",
        )
    ]


@pytest.mark.django_db
def test_e011_credential_holding_an_implausible_secret(credential_factory):
    credential = credential_factory(name="Prod")
    Credential.objects.filter(pk=credential.pk).update(
        secret="short", secret_fingerprint=secret_fingerprint("short")
    )
    messages = embed_checks.check_sigma_credentials(databases=["default"])
    assert [(m.id, m.msg) for m in messages] == [
        (
            "embeds.E011",
            "Credential 'Prod' holds a value that cannot be a Sigma embed secret (empty, "
            "padded, too short or too long).",
        )
    ]


@pytest.mark.django_db
def test_w010_credential_encrypted_with_an_older_key(credential_factory, settings, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(old)]))
    credential = credential_factory(name="Prod")
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(new), Fernet(old)]))
    credential = Credential.objects.get(pk=credential.pk)

    assert embed_checks.check_sigma_credentials(databases=["default"]) == [
        checks.Warning(
            "Credential 'Prod' is encrypted with an older key of FIELD_ENCRYPTION_KEY.",
            hint="Run `manage.py sigma_reencrypt` before removing old keys.",
            obj=credential,
            id="embeds.W010",
        )
    ]


# --- embeds --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_e020_embed_with_an_invalid_url(alice, embed_factory):
    embed = embed_factory(slug="sales")
    Embed.objects.filter(pk=embed.pk).update(
        url="https://evil.example/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA"
    )
    assert [(m.id, m.msg) for m in db_findings()] == [
        (
            "embeds.E020",
            "Embed 'sales' has an invalid Sigma URL: The host https://evil.example is not an "
            "allowed Sigma origin. Allowed: https://app.sigmacomputing.com, "
            "http://127.0.0.1:8001 (setting SIGMA_ALLOWED_ORIGINS).",
        )
    ]


@pytest.mark.django_db
def test_w020_enabled_embed_on_a_revoked_credential(alice, embed_factory, credential_factory):
    embed = embed_factory(slug="sales", credential=credential_factory(name="Old"))
    Credential.objects.filter(pk=embed.credential_id).update(is_active=False)
    assert [(m.id, m.msg, m.level) for m in db_findings()] == [
        (
            "embeds.W020",
            "Embed 'sales' uses the revoked credential 'Old', so every view of it is refused.",
            checks.WARNING,
        )
    ]


@pytest.mark.django_db
def test_disabled_embeds_are_not_checked(embed_factory):
    embed = embed_factory(slug="sales", teams=(), is_enabled=False)
    Credential.objects.filter(pk=embed.credential_id).update(is_active=False)
    assert db_findings() == []


@pytest.mark.django_db
def test_e021_token_lifetime_beyond_sigmas_limit(alice, embed_factory):
    embed = embed_factory(slug="sales")
    Embed.objects.filter(pk=embed.pk).update(token_ttl=2_592_001)
    assert [(m.id, m.msg) for m in db_findings()] == [
        (
            "embeds.E021",
            "Embed 'sales' has a token lifetime of 2592001 s, outside 60 to 2592000 "
            "(Sigma's limit is 30 days).",
        )
    ]


@pytest.mark.django_db
def test_w021_embed_without_teams(embed_factory):
    embed_factory(slug="sales", teams=())
    assert [(m.id, m.msg) for m in db_findings()] == [
        ("embeds.W021", "Embed 'sales' has no team, so nobody can view it.")
    ]


@pytest.mark.django_db
def test_w022_team_with_no_member_path(embed_factory, user_factory):
    embed_factory(slug="sales", teams=("Sales",))
    assert [(m.id, m.msg) for m in db_findings()] == [
        (
            "embeds.W022",
            "Team 'Sales', needed by embed 'sales', has no members: no user mapping and no "
            "group with members maps to it.",
        )
    ]


@pytest.mark.django_db
def test_a_group_with_members_is_a_member_path(embed_factory, user_factory):
    embed_factory(slug="sales", teams=("Sales",))
    group = Group.objects.create(name="Sellers")
    GroupMapping.objects.create(group=group).teams.set([Team.objects.get(name="Sales")])
    assert [m.id for m in db_findings()] == ["embeds.W022"]  # an empty group is no path
    user_factory("carol").groups.add(group)
    assert db_findings() == []


@pytest.mark.django_db
def test_e022_non_admin_credential_viewed_by_other_users(alice, embed_factory, credential_factory):
    credential = credential_factory(
        name="Personal", owner_email="owner@example.com", owner_is_admin=False
    )
    embed_factory(slug="sales", credential=credential)
    assert [(m.id, m.msg) for m in db_findings()] == [
        (
            "embeds.E022",
            "Credential 'Personal' is not owned by a Sigma Admin but signs embed 'sales', "
            "which 1 other user(s) can view; Sigma signs in only the owner with it.",
        )
    ]


@pytest.mark.django_db
def test_non_admin_credential_viewed_only_by_its_owner_is_fine(
    embed_factory, credential_factory, user_factory
):
    owner = user_factory("owner", teams=["Sales"])
    SigmaProfile.objects.filter(user=owner).update(sigma_email="Owner@Example.com")
    credential = credential_factory(
        name="Personal", owner_email="owner@example.com", owner_is_admin=False
    )
    embed_factory(slug="sales", credential=credential)
    assert db_findings() == []


@pytest.mark.django_db
def test_findings_never_contain_the_secret(embed_factory, monkeypatch):
    embed_factory(slug="sales", teams=())
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    text = " ".join(f"{m.msg} {m.hint}" for m in db_findings())
    assert CANARY_SECRET not in text
    assert "does not decrypt" in text


@pytest.mark.django_db
def test_manage_py_check_reports_database_findings_only_with_a_database(embed_factory, settings):
    settings.DEBUG = True
    embed_factory(slug="sales", teams=())
    plain, with_db = io.StringIO(), io.StringIO()

    call_command("check", stdout=plain, stderr=plain)
    call_command("check", "--database", "default", stdout=with_db, stderr=with_db)

    assert "embeds.W021" not in plain.getvalue()
    assert "(embeds.W021) Embed 'sales' has no team, so nobody can view it." in with_db.getvalue()
    assert CANARY_SECRET not in plain.getvalue() + with_db.getvalue()


@pytest.mark.django_db
def test_sigma_email_conflicts_are_errors_naming_the_users(alice, user_factory):
    user_factory("carol", sigma_email="ALICE@example.com")
    user_factory("bob", sigma_email="bob.sigma@example.com")
    gone = user_factory("gone", sigma_email="bob.sigma@example.com")
    gone.is_active = False
    gone.save()
    assert embed_checks.check_sigma_email_conflicts(databases=["default"]) == [
        checks.Error(
            "Sigma email alice@example.com is the identity of 2 active users (alice, "
            "carol): Sigma sees one user, with one set of rights and saved work.",
            hint="Give each user their own Sigma email (admin: the user's Sigma mapping, "
            "or sigma_config). See docs/security.md.",
            id="embeds.E030",
        )
    ]
    assert embed_checks.check_sigma_email_conflicts() == []
    assert embed_checks.check_sigma_email_conflicts in embed_checks.sigma_checks()
