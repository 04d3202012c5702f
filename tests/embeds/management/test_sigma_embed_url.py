"""manage.py sigma_embed_url: the page's signing path, from the shell."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from embeds.models import AccessRecord, Credential, Embed
from tests.conftest import CANARY_SECRET, WORKBOOK_URL


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[":jwt"][0]


def decode(token: str, *, client_id: str) -> dict:
    return jwt.decode(
        token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing", issuer=client_id
    )


@pytest.mark.django_db
def test_prints_a_signed_url_and_records_it_as_a_command(run, alice, embed_factory):
    embed = embed_factory(slug="sales", token_ttl=600)

    result = run("sigma_embed_url", "--user", "alice", "--embed", "sales")

    assert result.returncode == 0
    url = result.stdout.strip()
    assert result.stdout == url + "\n"
    assert url.startswith(WORKBOOK_URL + "?:jwt=")
    assert url.endswith("&:embed=true")
    token = token_of(url)
    assert jwt.get_unverified_header(token)["kid"] == embed.credential.client_id
    claims = decode(token, client_id=embed.credential.client_id)
    assert (claims["sub"], claims["teams"], claims["account_type"]) == (
        "alice@example.com",
        ["Sales"],
        "View",
    )
    assert claims["user_attributes"] == {"region": "West"}
    assert claims["exp"] - claims["iat"] == 600
    record = AccessRecord.objects.get()
    assert (record.outcome, record.source, record.jti, record.username) == (
        AccessRecord.Outcome.ISSUED,
        AccessRecord.Source.COMMAND,
        claims["jti"],
        "alice",
    )
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
def test_json_output_has_url_expiry_and_claims(run, alice, embed_factory):
    embed = embed_factory(slug="sales")

    result = run("sigma_embed_url", "--user", "alice", "--embed", "sales", "--ttl", "120", "--json")

    data = json.loads(result.stdout)
    assert set(data) == {"url", "expires_at", "claims", "header", "jti"}
    claims = decode(token_of(data["url"]), client_id=embed.credential.client_id)
    assert data["claims"] == claims
    assert claims["exp"] - claims["iat"] == 120
    assert data["header"] == {"alg": "HS256", "typ": "JWT", "kid": embed.credential.client_id}
    assert data["jti"] == claims["jti"]
    assert AccessRecord.objects.get().expires_at.isoformat() == data["expires_at"]
    assert CANARY_SECRET not in result.everything


def _revoke(embed: Embed) -> None:
    Credential.objects.filter(pk=embed.credential_id).update(is_active=False)


def _disable(embed: Embed) -> None:
    Embed.objects.filter(pk=embed.pk).update(is_enabled=False)


def _non_admin_owner(embed: Embed) -> None:
    Credential.objects.filter(pk=embed.credential_id).update(owner_is_admin=False)


def _break_secret(embed: Embed) -> None:
    # What a wrong FIELD_ENCRYPTION_KEY looks like: the fingerprint no longer matches.
    Credential.objects.filter(pk=embed.credential_id).update(secret_fingerprint="000000000000")


def _bad_url(embed: Embed) -> None:
    Embed.objects.filter(pk=embed.pk).update(
        url="https://evil.example/acme/workbook/X-1234567890abcdef"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "breaker", "rule", "message"),
    [
        (
            "bob",
            None,
            "no_team",
            "Refused (no_team): You are not in a team that may view this content. User "
            "'bob' shares no team with embed 'sales'.",
        ),
        (
            "alice",
            _revoke,
            "credential_inactive",
            "Refused (credential_inactive): The Sigma credential behind this content has "
            "been revoked. Credential 'Signer' is revoked.",
        ),
        (
            "alice",
            _disable,
            "embed_disabled",
            "Refused (embed_disabled): This content has been switched off. Embed 'sales' "
            "is disabled.",
        ),
        (
            "alice",
            _non_admin_owner,
            "owner_mismatch",
            "Refused (owner_mismatch): The Sigma credential behind this content belongs to "
            "a user who is not a Sigma Admin, so it can only sign in its owner. Credential "
            "'Signer' is owned by a non-Admin and can only sign in its owner.",
        ),
        (
            "alice",
            _break_secret,
            "credential_broken",
            "Refused (credential_broken): The Sigma credential behind this content cannot "
            "be read with this site's keys. Credential 'Signer' did not decrypt.",
        ),
        (
            "alice",
            _bad_url,
            "embed_misconfigured",
            "Refused (embed_misconfigured): This content's Sigma address or options are not "
            "valid. Embed 'sales' has an invalid URL: The host https://evil.example is not "
            "an allowed Sigma origin. Allowed: https://app.sigmacomputing.com, "
            "http://127.0.0.1:8001 (setting SIGMA_ALLOWED_ORIGINS).",
        ),
    ],
)
def test_refuses_with_the_pages_rule_and_message(
    run, alice, bob, embed_factory, credential_factory, username, breaker, rule, message
):
    embed = embed_factory(slug="sales", credential=credential_factory(name="Signer"))
    if breaker:
        breaker(embed)

    result = run("sigma_embed_url", "--user", username, "--embed", "sales", "--json")

    assert (result.returncode, result.error, result.stdout) == (1, message, "")
    record = AccessRecord.objects.get()
    assert (record.outcome, record.rule, record.source) == (
        AccessRecord.Outcome.REFUSED,
        rule,
        AccessRecord.Source.COMMAND,
    )
    assert CANARY_SECRET not in result.everything


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--user", "eve", "--embed", "sales"),
            "No user has the username 'eve'. Pass an existing host username.",
        ),
        (
            ("--user", "alice", "--embed", "nope"),
            "No embed has the slug 'nope'. Pass the slug shown in the admin's embed list "
            "(the last part of /embeds/<slug>/).",
        ),
        (
            ("--user", "alice", "--embed", "sales", "--ttl", "59"),
            "--ttl must be between 60 and 2592000 seconds (Sigma's limit is 30 days).",
        ),
        (
            ("--user", "alice", "--embed", "sales", "--ttl", "2592001"),
            "--ttl must be between 60 and 2592000 seconds (Sigma's limit is 30 days).",
        ),
        (
            ("--user", "alice", "--embed", "sales", "--ttl", "soon"),
            "Error: argument --ttl: invalid int value: 'soon'",
        ),
    ],
)
def test_bad_input_is_a_one_line_error_and_signs_nothing(run, alice, embed_factory, args, message):
    embed_factory(slug="sales")

    result = run("sigma_embed_url", *args)

    assert (result.returncode, result.error, result.stdout) == (1, message, "")
    assert not AccessRecord.objects.filter(outcome=AccessRecord.Outcome.ISSUED).exists()
