"""sigma_emulator.verify: OAuth passthrough, connections, teams, owner and URL reading."""

from __future__ import annotations

import base64
from http import HTTPStatus

import pytest

from sigma_emulator.oauth import decrypt_sdk_token
from sigma_emulator.verify import (
    MSG_INTERNAL_USER_CLAIMS,
    MSG_INVALID_CONNECTION,
    MSG_INVALID_ENCRYPTED_TOKEN,
    MSG_INVALID_TEAMS,
    MSG_OWNER_ONLY,
    ControlReading,
    read_control_value,
    read_query,
    verify_token,
)
from tests.emulator.conftest import CLIENT_ID, MISSING, NOW, SECRET, claims, make_token

# The spec §6 vector, built with Sigma's own node-embed-sdk. Its secret is 20 bytes,
# below PyJWT's HS256 recommendation, and the tokens below are signed with it so the
# vector decrypts: the warning is expected in this module, and only here.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
VECTOR_SECRET = "my fake embed secret"
VECTOR = "AAECAwQFBgcICQoLDA0ODw==.EBESExQVFhcYGRob.VUCeBWSgFkfy+jRUsaX3Sg==.CNTvledzG8LtguX3Pg=="
CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def check(token, *, secret=SECRET, **kwargs):
    return verify_token(
        token, lookup_secret=lambda kid: secret if kid == CLIENT_ID else None, now=NOW, **kwargs
    )


@pytest.mark.spec("6")
def test_decrypt_sdk_token_reads_the_node_sdk_vector():
    assert decrypt_sdk_token(VECTOR_SECRET, VECTOR) == "hello, world!"


@pytest.mark.spec("6")
def test_decrypt_sdk_token_accepts_url_safe_and_unpadded_base64_like_node():
    lenient = VECTOR.replace("+", "-").replace("=", "")

    assert decrypt_sdk_token(VECTOR_SECRET, lenient) == "hello, world!"


@pytest.mark.spec("6")
@pytest.mark.parametrize(
    "encrypted",
    [
        "hello, world!",
        "(salt).(iv).(tag).(ciphertext)",
        "YQ==.Yg==.Yw==.ZA==",
        VECTOR + ".AAAA",
        VECTOR[:-4] + "AA==",  # tampered ciphertext
        None,
        42,
    ],
)
def test_decrypt_sdk_token_refuses_malformed_or_tampered_values(encrypted):
    assert decrypt_sdk_token(VECTOR_SECRET, encrypted) is None


@pytest.mark.spec("6")
def test_decrypt_sdk_token_refuses_a_wrong_secret():
    assert decrypt_sdk_token("another secret", VECTOR) is None


@pytest.mark.spec("6")
def test_sdk_format_with_16_12_16_byte_parts_is_read_before_authentication():
    """The SDK test's well-formed value passes the format check, then fails GCM."""
    parts = [b"s" * 16, b"i" * 12, b"t" * 16, b"c" * 10]
    value = ".".join(base64.b64encode(part).decode() for part in parts)

    assert decrypt_sdk_token(VECTOR_SECRET, value) is None


@pytest.mark.spec("1.2")
def test_verify_token_accepts_oauth_claims_that_decrypt_with_the_secret():
    result = check(
        make_token(
            claims(oauth_token=VECTOR, connection_oauth_tokens={CONNECTION: VECTOR}),
            secret=VECTOR_SECRET,
        ),
        secret=VECTOR_SECRET,
    )

    assert result.ok
    assert result.oauth_connections == ["organization", CONNECTION]


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    ("overrides", "rule", "message"),
    [
        (
            {"ver": MISSING, "aud": MISSING, "oauth_token": VECTOR},
            "oauth_token_version",
            "oauth_token is only supported in ver 1.1",
        ),
        (
            {"ver": "1.0", "connection_oauth_tokens": {CONNECTION: VECTOR}},
            "connection_oauth_tokens_version",
            "connection_oauth_tokens is only supported in ver 1.1",
        ),
        ({"oauth_token": "plain-oauth-token"}, "oauth_token", MSG_INVALID_ENCRYPTED_TOKEN),
        ({"oauth_token": 7}, "oauth_token", MSG_INVALID_ENCRYPTED_TOKEN),
        (
            {"connection_oauth_tokens": {CONNECTION: "plain"}},
            "connection_oauth_tokens",
            MSG_INVALID_ENCRYPTED_TOKEN,
        ),
        (
            {"connection_oauth_tokens": {"prod": VECTOR}},
            "connection_oauth_tokens",
            MSG_INVALID_ENCRYPTED_TOKEN,
        ),
        (
            {"connection_oauth_tokens": [VECTOR]},
            "connection_oauth_tokens",
            MSG_INVALID_ENCRYPTED_TOKEN,
        ),
    ],
)
def test_verify_token_refuses_oauth_claims_without_ver_1_1_or_that_do_not_decrypt(
    overrides, rule, message
):
    result = check(make_token(claims(**overrides), secret=VECTOR_SECRET), secret=VECTOR_SECRET)

    assert not result.ok
    assert (result.code, result.rule, result.message) == ("EINVAL", rule, message)


@pytest.mark.spec("6")
def test_verify_token_refuses_an_oauth_token_encrypted_with_another_secret():
    # VECTOR is encrypted with VECTOR_SECRET; this token is signed with SECRET.
    result = check(make_token(claims(oauth_token=VECTOR)))

    assert (result.rule, result.message) == ("oauth_token", MSG_INVALID_ENCRYPTED_TOKEN)


@pytest.mark.spec("1.2")
def test_verify_token_checks_each_sent_team_and_accepts_none():
    known = {"Sales"}.__contains__

    assert check(make_token(claims(teams=MISSING)), team_exists=known).ok
    assert check(make_token(claims(teams=["Sales"])), team_exists=known).ok
    unknown = check(make_token(claims(teams=["Sales", "Ghosts"])), team_exists=known)
    assert (unknown.code, unknown.rule, unknown.message) == (
        "EINVAL",
        "team_unknown",
        MSG_INVALID_TEAMS,
    )


@pytest.mark.spec("1.2")
def test_verify_token_refuses_a_connection_the_organization_does_not_have():
    token = claims(eval_connection_id=CONNECTION)
    exists = {CONNECTION}.__contains__

    assert check(make_token(token), connection_exists=exists).ok
    other = check(
        make_token(claims(eval_connection_id=CONNECTION.replace("1b", "2c"))),
        connection_exists=exists,
    )
    assert (other.rule, other.message) == ("connection_unknown", MSG_INVALID_CONNECTION)


@pytest.mark.spec("7")
def test_verify_token_owner_rule_is_a_permission_error():
    result = check(make_token(), owner_allows=lambda kid, sub: False)

    assert (result.code, result.rule, result.message) == ("EPERM", "owner", MSG_OWNER_ONLY)
    assert result.status == HTTPStatus.UNAUTHORIZED


@pytest.mark.spec("7")
def test_verify_token_applies_the_owner_rule_to_internal_users_too():
    internal = claims(account_type=MISSING, teams=MISSING, user_attributes=MISSING)

    assert check(make_token(internal), owner_allows=lambda kid, sub: False).rule == "owner"


INTERNAL_ONLY = {
    "account_type": MISSING,
    "teams": MISSING,
    "user_attributes": MISSING,
    "eval_connection_id": CONNECTION,
}


@pytest.mark.spec("7")
@pytest.mark.parametrize(
    "claim",
    [
        {"account_type": "View"},
        {"teams": ["Sales"]},
        {"user_attributes": {"region": "West"}},
        {"first_name": "Ada"},
        {"last_name": "Lovelace"},
    ],
)
def test_verify_token_refuses_embed_user_claims_for_an_internal_member(claim):
    """Sigma: "Cannot update account type for internal users", shown without a code."""
    token = make_token(claims(**{**INTERNAL_ONLY, **claim}))
    calls: list[str] = []

    result = check(token, is_internal_member=lambda sub: True, claim_jti=calls.append)

    assert (result.ok, result.rule, result.code) == (False, "internal_user_claims", "")
    assert result.message == MSG_INTERNAL_USER_CLAIMS
    assert result.status == HTTPStatus.FORBIDDEN
    assert calls == []  # a refused token does not use up its jti
    # The same claims are an embed user's to send.
    assert check(token, is_internal_member=lambda sub: False).ok


@pytest.mark.spec("7")
def test_verify_token_accepts_an_internal_members_token_without_embed_user_claims():
    # eval_connection_id is not one of the embed-user claims (CLAIMS).
    token = make_token(claims(**INTERNAL_ONLY))

    assert check(token, is_internal_member=lambda sub: sub == "alice@example.com").ok


@pytest.mark.spec("2.3")
@pytest.mark.parametrize(
    ("raw", "reading"),
    [
        ("Smith%2C%20John", ControlReading("value", ("Smith, John",))),
        ("Smith,John", ControlReading("list", ("Smith", "John"))),
        ("Smith,%20John", ControlReading("list", ("Smith", " John"))),
        ("West%2CSouth,East", ControlReading("list", ("West,South", "East"))),
        (":null", ControlReading("null")),
        (":empty", ControlReading("empty")),
        ("%3Anull", ControlReading("value", (":null",))),
        ("42", ControlReading("value", ("42",))),
        ("2024-05-01T02:00", ControlReading("value", ("2024-05-01T02:00",))),
        (
            "min:2024-01-01,max:2024-12-31",
            ControlReading("range", ends=(("min", "2024-01-01"), ("max", "2024-12-31"))),
        ),
        ("min:2024-01-01,max:", ControlReading("range", ends=(("min", "2024-01-01"), ("max", "")))),
        ("min:,max:", ControlReading("range", ends=(("min", ""), ("max", "")))),
        (
            "start:prior-day-3,end:next-year-0",
            ControlReading("range", ends=(("start", "prior-day-3"), ("end", "next-year-0"))),
        ),
        ("min:1%2C000,max:", ControlReading("range", ends=(("min", "1,000"), ("max", "")))),
        # No one-key form, no reversed or mixed keys: those are plain values or lists.
        ("max:2024-12-31", ControlReading("value", ("max:2024-12-31",))),
        ("max:1,min:0", ControlReading("list", ("max:1", "min:0"))),
        ("min:1,end:2", ControlReading("list", ("min:1", "end:2"))),
        ("min%3A5", ControlReading("value", ("min:5",))),
    ],
)
def test_read_control_value_splits_on_literal_commas_before_decoding(raw, reading):
    assert read_control_value(raw) == reading


def test_read_query_separates_options_from_controls_and_drops_the_token():
    options, controls = read_query(":jwt=a.b.c&:embed=true&:theme=Dark&Customer%20Id=m%201")

    assert options == {":embed": "true", ":theme": "Dark"}
    assert controls == {"Customer Id": ControlReading("value", ("m 1",))}
