"""embeds.protocol.signing against the spec, claim by claim (spec §1 and §2.1)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from embeds.protocol import signing

SECRET = "s3cret-value-for-unit-tests-0123456789"
NOW = 1_764_000_000


def claims(**overrides):
    values = dict(
        client_id="client-1",
        email="alice@example.com",
        account_type="View",
        teams=["Sales"],
        user_attributes={"region": "West"},
        now=NOW,
        ttl=3600,
        jti="0b9d8c1e-5d38-4bd2-9d43-5a4a7e3c2f10",
    )
    values.update(overrides)
    return signing.build_claims(**values)


def segment(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.spec("1.1")
def test_header_is_hs256_with_kid_equal_to_client_id():
    token = signing.sign_token(claims(), secret=SECRET, client_id="client-1")
    assert segment(token, 0) == {"alg": "HS256", "typ": "JWT", "kid": "client-1"}
    assert jwt.get_unverified_header(token)["kid"] == "client-1"


@pytest.mark.spec("1.1")
def test_signature_uses_the_secret_utf8_bytes():
    secret = "ünïcode-secret-ß-0123456789-abcdefghij"
    token = signing.sign_token(claims(), secret=secret, client_id="client-1")
    decoded = jwt.decode(
        token,
        secret.encode("utf-8"),
        algorithms=["HS256"],
        audience="sigmacomputing",
        options={"verify_exp": False},
    )
    assert decoded["sub"] == "alice@example.com"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience="sigmacomputing",
            options={"verify_exp": False},
        )


@pytest.mark.spec("1.3")
def test_claims_are_exactly_the_minimal_payload_plus_attributes():
    assert claims() == {
        "sub": "alice@example.com",
        "iss": "client-1",
        "aud": "sigmacomputing",
        "ver": "1.1",
        "jti": "0b9d8c1e-5d38-4bd2-9d43-5a4a7e3c2f10",
        "iat": NOW,
        "exp": NOW + 3600,
        "account_type": "View",
        "teams": ["Sales"],
        "user_attributes": {"region": "West"},
    }


@pytest.mark.spec("1.2")
def test_iat_and_exp_are_integer_seconds():
    payload = claims()
    assert type(payload["iat"]) is int and type(payload["exp"]) is int


@pytest.mark.spec("1.2")
def test_user_attributes_left_out_when_empty():
    assert "user_attributes" not in claims(user_attributes={})
    assert "user_attributes" not in claims(user_attributes=None)


@pytest.mark.spec("1.2")
def test_iss_is_the_client_id_and_aud_goes_with_ver_1_1():
    payload = claims(client_id="abc")
    assert payload["iss"] == "abc"
    assert (payload["ver"], payload["aud"]) == ("1.1", "sigmacomputing")


@pytest.mark.spec("1.2")
def test_longest_lifetime_is_thirty_days():
    assert claims(ttl=2_592_000)["exp"] - NOW == 2_592_000
    with pytest.raises(signing.SigningError, match="ttl"):
        claims(ttl=2_592_001)


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("ttl", 0, "ttl"),
        ("ttl", -5, "ttl"),
        ("ttl", 3600.0, "ttl"),
        ("ttl", True, "ttl"),
        ("now", 1_764_000_000_000, "milliseconds"),
        ("now", 1_764_000_000.5, "integer"),
        ("account_type", "", "account type"),
        ("teams", [], "teams"),
        ("teams", [""], "teams"),
        ("email", "", "email"),
        ("email", " alice@example.com", "email"),
        ("jti", "", "jti"),
        ("client_id", "", "client ID"),
        ("user_attributes", {"region": 3}, "attributes"),
    ],
)
def test_build_claims_refuses_what_sigma_rejects(field, value, problem):
    with pytest.raises(signing.SigningError, match=problem):
        claims(**{field: value})


def test_sign_token_refuses_an_empty_secret():
    with pytest.raises(signing.SigningError, match="secret"):
        signing.sign_token(claims(), secret="", client_id="client-1")


@pytest.mark.spec("2.1")
def test_url_puts_jwt_then_embed_then_options_with_literal_colons():
    url = signing.build_embed_url(
        "https://app.sigmacomputing.com/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA",
        token="aaa.bbb.ccc",
        interface_options=[(":theme", "Dark"), (":responsive_height", "true")],
    )
    assert url == (
        "https://app.sigmacomputing.com/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA"
        "?:jwt=aaa.bbb.ccc&:embed=true&:theme=Dark&:responsive_height=true"
    )


@pytest.mark.spec("2.3")
@pytest.mark.parametrize(
    ("control", "value", "encoded"),
    [
        ("Region", "West,Southwest", "Region=West,Southwest"),
        ("Customer Id", "merchant 1", "Customer%20Id=merchant%201"),
        ("range", "min:1,max:5", "range=min:1,max:5"),
        ("start_date", "2014-05-01", "start_date=2014-05-01"),
        ("q", "a&b=c/d?#", "q=a%26b%3Dc%2Fd%3F%23"),
        ("x", ":null", "x=:null"),
    ],
)
def test_control_values_keep_commas_and_colons_literal(control, value, encoded):
    url = signing.build_embed_url(
        "https://app.sigmacomputing.com/a/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
        token="aaa.bbb.ccc",
        control_values=[(control, value)],
    )
    assert url.endswith("&" + encoded)


@pytest.mark.parametrize(
    ("content_url", "token", "problem"),
    [
        ("https://app.sigmacomputing.com/a/workbook/W-1?x=1", "a.b.c", "query"),
        ("https://app.sigmacomputing.com/a/workbook/W-1", "a.b.c&:x=1", "compact JWS"),
        ("https://app.sigmacomputing.com/a/workbook/W-1", "", "compact JWS"),
    ],
)
def test_build_embed_url_refuses_bad_input(content_url, token, problem):
    with pytest.raises(signing.SigningError, match=problem):
        signing.build_embed_url(content_url, token=token)


def test_build_embed_url_refuses_option_names_without_colon_and_colon_control_ids():
    base = "https://app.sigmacomputing.com/a/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA"
    with pytest.raises(signing.SigningError):
        signing.build_embed_url(base, token="a.b.c", interface_options=[("theme", "Dark")])
    with pytest.raises(signing.SigningError):
        signing.build_embed_url(base, token="a.b.c", interface_options=[(":jwt", "x")])
    with pytest.raises(signing.SigningError):
        signing.build_embed_url(base, token="a.b.c", control_values=[(":jwt", "x")])


def test_redact_url_hides_only_the_token():
    url = "https://h/a/workbook/W-1?:jwt=aaa.bbb.ccc&:embed=true&Region=West"
    assert (
        signing.redact_url(url)
        == "https://h/a/workbook/W-1?:jwt=[redacted]&:embed=true&Region=West"
    )


# --- Internal users, names, connection switching, OAuth claims (issue 13) -------

CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
ENCRYPTED = (
    "AAECAwQFBgcICQoLDA0ODw==.EBESExQVFhcYGRob.VUCeBWSgFkfy+jRUsaX3Sg==.CNTvledzG8LtguX3Pg=="
)


@pytest.mark.spec("1.2")
def test_internal_user_token_has_no_account_type_teams_or_user_attributes():
    payload = claims(internal=True, first_name="Ada", last_name="Lovelace")

    assert "account_type" not in payload
    assert "teams" not in payload
    assert "user_attributes" not in payload
    assert "first_name" not in payload and "last_name" not in payload
    assert set(payload) == {"sub", "iss", "aud", "ver", "jti", "iat", "exp"}


@pytest.mark.spec("1.2")
def test_internal_user_needs_no_account_type_or_teams():
    payload = claims(internal=True, account_type=None, teams=(), user_attributes=None)

    assert payload["sub"] == "alice@example.com"


@pytest.mark.spec("1.2")
def test_embed_user_names_are_sent_when_set_and_trimmed():
    payload = claims(first_name=" Ada ", last_name="Lovelace")

    assert (payload["first_name"], payload["last_name"]) == ("Ada", "Lovelace")
    assert "first_name" not in claims(first_name="   ")


@pytest.mark.spec("1.2")
def test_eval_connection_id_is_sent_when_set():
    assert claims(eval_connection_id=CONNECTION)["eval_connection_id"] == CONNECTION
    assert "eval_connection_id" not in claims()
    assert claims(internal=True, eval_connection_id=CONNECTION)["eval_connection_id"] == CONNECTION


@pytest.mark.spec("1.2")
def test_encrypted_oauth_claims_are_sent_with_ver_1_1():
    payload = claims(oauth_token=ENCRYPTED, connection_oauth_tokens={CONNECTION: ENCRYPTED})

    assert payload["ver"] == "1.1" and payload["aud"] == "sigmacomputing"
    assert payload["oauth_token"] == ENCRYPTED
    assert payload["connection_oauth_tokens"] == {CONNECTION: ENCRYPTED}


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("eval_connection_id", "prod-warehouse", "eval_connection_id"),
        ("first_name", "Ada\nEvil", "first_name"),
        ("last_name", 7, "last_name"),
        ("oauth_token", "plain-oauth-token", "encrypted"),
        ("connection_oauth_tokens", {CONNECTION: "plain"}, "connection IDs to encrypted"),
        ("connection_oauth_tokens", {"prod": ENCRYPTED}, "connection IDs to encrypted"),
    ],
)
def test_build_claims_refuses_bad_protocol_claims(field, value, problem):
    with pytest.raises(signing.SigningError, match=problem):
        claims(**{field: value})
