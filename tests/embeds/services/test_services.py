"""issue_embed_url: every refusal rule, the audit records, revocation, encryption."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.contrib.auth.models import Group
from django.db import connection

from embeds import exceptions, issuing, services
from embeds.models import AccessRecord, AccountType, Credential, GroupMapping, SigmaProfile
from tests.conftest import CANARY_SECRET

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def issue(user, embed, **kwargs):
    kwargs.setdefault("source", AccessRecord.Source.PAGE)
    return issuing.issue_embed_url(user=user, embed=embed, **kwargs)


def decode(url: str, secret: str = CANARY_SECRET) -> dict:
    token = url.split(":jwt=")[1].split("&")[0]
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience="sigmacomputing",
        options={"verify_exp": False},
    )


@pytest.mark.django_db
def test_issue_signs_claims_from_the_users_mapping(alice, embed_factory):
    embed = embed_factory(theme="Dark", responsive_height=True)
    signed = issue(alice, embed, now=NOW, client_ip="10.0.0.7")
    claims = decode(signed.url)
    assert claims == {
        "sub": "alice@example.com",
        "iss": embed.credential.client_id,
        "aud": "sigmacomputing",
        "ver": "1.1",
        "jti": signed.jti,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
        "account_type": "View",
        "teams": ["Sales"],
        "user_attributes": {"region": "West"},
    }
    assert signed.url.startswith(embed.url + "?:jwt=")
    assert signed.url.endswith("&:embed=true&:theme=Dark&:responsive_height=true")
    assert signed.header == {"alg": "HS256", "typ": "JWT", "kid": embed.credential.client_id}


@pytest.mark.django_db
def test_each_issue_has_a_fresh_jti_and_is_recorded_without_the_token(alice, embed_factory):
    embed = embed_factory()
    first, second = issue(alice, embed, client_ip="10.0.0.7"), issue(alice, embed)
    assert first.jti != second.jti
    record = AccessRecord.objects.get(jti=first.jti)
    assert (record.outcome, record.user, record.sigma_email) == (
        "issued",
        alice,
        "alice@example.com",
    )
    assert (record.embed, record.credential, record.client_ip) == (
        embed,
        embed.credential,
        "10.0.0.7",
    )
    assert record.expires_at == first.expires_at
    token = first.url.split(":jwt=")[1].split("&")[0]
    for value in AccessRecord.objects.values_list():
        assert token not in str(value) and CANARY_SECRET not in str(value)


@pytest.mark.django_db
def test_teams_are_the_union_of_own_and_group_teams(user_factory, embed_factory, team_factory):
    carol = user_factory("carol", teams=["Sales"])
    group = Group.objects.create(name="Marketing people")
    mapping = GroupMapping.objects.create(group=group)
    mapping.teams.set([team_factory("Marketing")])
    carol.groups.add(group)
    claims = decode(issue(carol, embed_factory(teams=["Marketing"])).url)
    assert claims["teams"] == ["Marketing", "Sales"]


@pytest.mark.django_db
def test_account_type_can_come_from_the_group(user_factory, embed_factory):
    dave = user_factory("dave", teams=["Sales"], account_type=None)
    group = Group.objects.create(name="Builders")
    GroupMapping.objects.create(group=group, account_type=AccountType.objects.get(name="Build"))
    dave.groups.add(group)
    assert decode(issue(dave, embed_factory()).url)["account_type"] == "Build"


@pytest.mark.django_db
def test_sigma_email_override_is_sent_as_sub(user_factory, embed_factory):
    erin = user_factory("erin", teams=["Sales"], sigma_email="erin.sigma@example.org")
    assert decode(issue(erin, embed_factory()).url)["sub"] == "erin.sigma@example.org"


@pytest.mark.django_db
def test_ttl_comes_from_the_embed(alice, embed_factory):
    claims = decode(issue(alice, embed_factory(token_ttl=600), now=NOW).url)
    assert claims["exp"] - claims["iat"] == 600


def refusal_cases():
    """(name, setup(users, factories) -> (user, embed), expected refusal)."""
    return [
        ("no_team", lambda f: (f["user"]("u1"), f["embed"]()), exceptions.NoTeam),
        (
            "no_email",
            lambda f: (f["user"]("u2", email="", teams=["Sales"]), f["embed"]()),
            exceptions.NoEmail,
        ),
        (
            "whitespace_email",
            lambda f: (f["user"]("u3", email="a b@example.com", teams=["Sales"]), f["embed"]()),
            exceptions.NoEmail,
        ),
        (
            "underscore_email",
            lambda f: (
                f["user"]("u4", email="first_last@example.com", teams=["Sales"]),
                f["embed"](),
            ),
            exceptions.NoEmail,
        ),
        (
            "no_account_type",
            lambda f: (f["user"]("u5", account_type=None, teams=["Sales"]), f["embed"]()),
            exceptions.NoAccountType,
        ),
        (
            "embed_disabled",
            lambda f: (f["user"]("u6", teams=["Sales"]), f["embed"](is_enabled=False)),
            exceptions.EmbedDisabled,
        ),
        (
            "credential_inactive",
            lambda f: (
                f["user"]("u7", teams=["Sales"]),
                f["embed"](credential=f["credential"](is_active=False)),
            ),
            exceptions.CredentialInactive,
        ),
        (
            "owner_mismatch",
            lambda f: (
                f["user"]("u8", teams=["Sales"]),
                f["embed"](
                    credential=f["credential"](
                        owner_is_admin=False, owner_email="owner@example.com"
                    )
                ),
            ),
            exceptions.OwnerMismatch,
        ),
        (
            "owner_missing",
            lambda f: (
                f["user"]("u9", teams=["Sales"]),
                f["embed"](credential=f["credential"](owner_is_admin=False, owner_email="")),
            ),
            exceptions.OwnerMismatch,
        ),
        (
            "bad_url",
            lambda f: (
                f["user"]("u10", teams=["Sales"]),
                f["embed"](url="https://app.sigmacomputing.com/embed/1-5ROVG8NwQrGNLF31mh1VJS"),
            ),
            exceptions.EmbedMisconfigured,
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "setup", "refusal"), refusal_cases(), ids=[c[0] for c in refusal_cases()]
)
def test_each_rule_refuses_with_its_own_class_and_is_recorded(
    name, setup, refusal, user_factory, embed_factory, credential_factory
):
    user, embed = setup(
        {"user": user_factory, "embed": embed_factory, "credential": credential_factory}
    )
    with pytest.raises(refusal) as caught:
        issue(user, embed)
    assert type(caught.value) is refusal
    assert CANARY_SECRET not in str(caught.value)
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.jti) == ("refused", refusal.code, "")
    assert record.user == user and record.embed == embed


@pytest.mark.django_db
def test_blocked_user_is_refused(alice, embed_factory):
    SigmaProfile.objects.filter(user=alice).update(is_blocked=True)
    with pytest.raises(exceptions.UserBlocked):
        issue(alice, embed_factory())


@pytest.mark.django_db
def test_owner_may_be_signed_in_with_a_non_admin_credential(
    user_factory, embed_factory, credential_factory
):
    owner = user_factory("owner", email="Owner@Example.com", teams=["Sales"])
    # The owner is a Sigma member: their own mapping says so, or signing them is an
    # identity conflict (embeds.identity.check_identity_conflicts).
    SigmaProfile.objects.filter(user=owner).update(internal=SigmaProfile.Internal.INTERNAL)
    credential = credential_factory(owner_is_admin=False, owner_email="owner@example.com")
    assert (
        decode(issue(owner, embed_factory(credential=credential)).url)["sub"] == "Owner@example.com"
    )


@pytest.mark.django_db
def test_groups_with_different_account_types_are_refused(user_factory, embed_factory):
    frank = user_factory("frank", teams=["Sales"], account_type=None)
    for name, account_type in (("g1", "View"), ("g2", "Build")):
        group = Group.objects.create(name=name)
        GroupMapping.objects.create(
            group=group, account_type=AccountType.objects.get(name=account_type)
        )
        frank.groups.add(group)
    with pytest.raises(exceptions.AmbiguousAccountType):
        issue(frank, embed_factory())


@pytest.mark.django_db
def test_revoke_refuses_the_next_request_and_activate_restores(alice, embed_factory, admin_user):
    embed = embed_factory()
    issue(alice, embed)
    services.revoke_credential(
        credential=embed.credential, actor=admin_user, reason="leaked in a ticket"
    )
    embed.refresh_from_db()
    with pytest.raises(exceptions.CredentialInactive):
        issue(alice, embed)
    credential = Credential.objects.get(pk=embed.credential_id)
    assert (credential.revoked_by, credential.revoked_reason) == (admin_user, "leaked in a ticket")
    services.activate_credential(credential=credential, actor=admin_user)
    assert issue(alice, embed).jti


@pytest.mark.django_db
def test_revoke_is_seen_even_by_a_stale_embed_object(alice, embed_factory):
    embed = embed_factory()
    services.revoke_credential(credential=embed.credential, reason="test")
    # `embed.credential` still says active in memory: the service re-reads it.
    assert embed.credential.is_active
    with pytest.raises(exceptions.CredentialInactive):
        issue(alice, embed)


@pytest.mark.django_db
def test_revoke_needs_a_reason(embed_factory):
    embed = embed_factory()
    with pytest.raises(ValueError, match="reason"):
        services.revoke_credential(credential=embed.credential, reason="  ")


@pytest.mark.django_db
def test_secret_is_encrypted_at_rest(credential_factory):
    credential = credential_factory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM embeds_credential WHERE id = %s", [credential.pk])
        (stored,) = cursor.fetchone()
    assert CANARY_SECRET not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


@pytest.mark.django_db
def test_wrong_encryption_key_refuses_and_never_signs(alice, embed_factory, monkeypatch, client):
    embed = embed_factory()
    import encrypted_model_fields.fields as fields

    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    embed = type(embed).objects.get(pk=embed.pk)
    with pytest.raises(exceptions.CredentialBroken):
        issue(alice, embed)
    assert not AccessRecord.objects.filter(outcome="issued").exists()

    client.force_login(alice)
    response = client.get(embed.get_absolute_url())
    assert response.status_code == 503
    body = response.content.decode()
    assert ":jwt=" not in body and "gAAAA" not in body and CANARY_SECRET not in body
    assert "FIELD_ENCRYPTION_KEY" in body


@pytest.mark.django_db
def test_tampered_secret_fingerprint_refuses(alice, embed_factory):
    embed = embed_factory()
    Credential.objects.filter(pk=embed.credential_id).update(secret_fingerprint="000000000000")
    with pytest.raises(exceptions.CredentialBroken):
        issue(alice, embed)


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        ("", "secret_empty"),
        (" padded-secret-value-123 ", "secret_whitespace"),
        ("short", "secret_length"),
        # At least 32 bytes (issue #10), so the tab is what is refused.
        ("tab\tin-the-middle-of-it-0123456789abcdef", "secret_characters"),
    ],
)
def test_bad_secrets_are_refused_before_storing(secret, code):
    from django.core.exceptions import ValidationError

    credential = Credential(name="x", client_id="x")
    with pytest.raises(ValidationError) as caught:
        credential.set_secret(secret)
    assert caught.value.code == code
    assert credential.secret in ("", None)


@pytest.mark.django_db
def test_secret_starting_with_dollar_works(alice, embed_factory, credential_factory):
    secret = "$NOT_A_VARIABLE-but-a-real-secret-value"
    embed = embed_factory(credential=credential_factory(secret=secret))
    assert decode(issue(alice, embed).url, secret)["sub"] == "alice@example.com"


def test_str_and_repr_never_show_the_secret():
    credential = Credential(name="Prod", client_id="abc")
    credential.set_secret(CANARY_SECRET)
    assert CANARY_SECRET not in str(credential)
    assert CANARY_SECRET not in repr(credential)


def test_secret_never_in_the_sqlite_file(tmp_path):
    """End to end on a real SQLite file: migrate, store a secret, grep the file."""
    db = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "HOSTSITE_READ_DOTENV": "0",
        "SECRET_KEY": "k" * 20 + "-" + "x" * 40,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "hostsite.settings",
        "SIGMA_ALLOWED_ORIGINS": "https://app.sigmacomputing.com",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    script = (
        "import django; django.setup();"
        "from embeds.services import create_credential;"
        f"create_credential(name='p', client_id='c', secret={CANARY_SECRET!r}, owner_is_admin=True)"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    data = db.read_bytes()
    assert CANARY_SECRET.encode() not in data
    assert b"gAAAA" in data
