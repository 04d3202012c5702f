"""sigma_emulator.verify: each Sigma check, in order, with its exact message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from http import HTTPStatus

import jwt
import pytest

from sigma_emulator import verify
from sigma_emulator.models import SeenToken, claim_jti, jti_key
from sigma_emulator.verify import (
    MSG_EXP_PAST,
    MSG_INVALID_ACCOUNT_TYPE,
    MSG_INVALID_ALG,
    MSG_INVALID_AUD,
    MSG_INVALID_CLIENT_ID,
    MSG_INVALID_CONNECTION,
    MSG_INVALID_EMAIL,
    MSG_INVALID_ISS,
    MSG_INVALID_JTI,
    MSG_INVALID_KID,
    MSG_INVALID_SECRET,
    MSG_INVALID_TEAMS,
    MSG_INVALID_TIME,
    MSG_INVALID_USER_ATTRIBUTES,
    MSG_INVALID_VER,
    MSG_REPLAY,
    MSG_SESSION_LENGTH,
    verify_token,
)
from tests.emulator.conftest import CLIENT_ID, MISSING, NOW, SECRET, claims, make_token

pytestmark = pytest.mark.spec("1")


def lookup(kid: str) -> str | None:
    return SECRET if kid == CLIENT_ID else None


def hand_signed(header: dict, payload: dict, secret: str = SECRET) -> str:
    """A token PyJWT would refuse to encode (e.g. a numeric kid)."""

    def part(value: dict) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(payload)}"
    digest = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def check(token: str | None, **kwargs):
    return verify_token(token, lookup_secret=lookup, now=NOW, **kwargs)


def test_verify_token_accepts_the_spec_payload():
    payload = claims()

    result = check(make_token(payload))

    assert result.ok
    assert result.status == HTTPStatus.OK
    assert result.claims == payload
    assert (result.code, result.message, result.rule) == ("", "", "")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"iss": MISSING}, id="no-iss"),
        pytest.param({"ver": MISSING, "aud": MISSING}, id="no-ver-means-1.0"),
        pytest.param({"ver": "1.0", "aud": "anything"}, id="ver-1.0-ignores-aud"),
        pytest.param({"user_attributes": MISSING}, id="no-attributes"),
        pytest.param({"user_attributes": {}}, id="empty-attributes"),
        pytest.param({"exp": NOW + 2_592_000}, id="session-30-days"),
        pytest.param({"iat": NOW + 60, "exp": NOW + 3600}, id="iat-60s-ahead"),
        pytest.param({"exp": NOW + 1}, id="exp-1s-ahead"),
        pytest.param({"sub": "first.last+tag@sub.example-corp.co"}, id="dotted-email"),
        pytest.param({"teams": ["Sales", "Sales West"]}, id="two-teams"),
        # Sigma: account_type and teams are optional (an internal user must not
        # send them; a new embed user without account_type gets the highest type).
        pytest.param({"account_type": MISSING}, id="no-account-type"),
        pytest.param({"teams": MISSING}, id="no-teams"),
        pytest.param({"teams": []}, id="empty-teams"),
        pytest.param(
            {"account_type": MISSING, "teams": MISSING, "user_attributes": MISSING},
            id="internal-user",
        ),
        pytest.param({"first_name": "Ada", "last_name": "Lovelace"}, id="names"),
        pytest.param({"first_name": ""}, id="empty-first-name"),
        pytest.param(
            {"eval_connection_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}, id="connection"
        ),
    ],
)
def test_verify_token_accepts_edge_values(overrides):
    assert check(make_token(claims(**overrides))).ok


ALG_NONE = jwt.encode(claims(), None, algorithm="none", headers={"kid": CLIENT_ID})
ALG_HS512 = make_token(algorithm="HS512", secret=SECRET * 2)
NO_KID = make_token(headers={})
NUMERIC_KID = hand_signed({"alg": "HS256", "typ": "JWT", "kid": 7}, claims())
UNKNOWN_KID = make_token(headers={"kid": "someone-else"})
WRONG_SECRET = make_token(secret="another-secret-of-enough-length-0123456789")
NOT_JSON_PAYLOAD = jwt.api_jws.encode(b"[1, 2]", SECRET, headers={"kid": CLIENT_ID})


@pytest.mark.parametrize(
    ("token", "rule", "message"),
    [
        pytest.param(None, "token_missing", MSG_INVALID_KID, id="no-token"),
        pytest.param("", "token_missing", MSG_INVALID_KID, id="empty-token"),
        pytest.param("not.a.jwt", "token_malformed", MSG_INVALID_KID, id="garbage"),
        pytest.param(ALG_NONE, "alg", MSG_INVALID_ALG, id="alg-none"),
        pytest.param(ALG_HS512, "alg", MSG_INVALID_ALG, id="alg-hs512"),
        pytest.param(NO_KID, "kid_missing", MSG_INVALID_KID, id="no-kid"),
        pytest.param(NUMERIC_KID, "token_malformed", MSG_INVALID_KID, id="numeric-kid"),
        pytest.param(UNKNOWN_KID, "kid_unknown", MSG_INVALID_CLIENT_ID, id="unknown-kid"),
        pytest.param(WRONG_SECRET, "signature", MSG_INVALID_SECRET, id="wrong-secret"),
        pytest.param(NOT_JSON_PAYLOAD, "token_malformed", MSG_INVALID_KID, id="payload-list"),
    ],
)
def test_verify_token_refuses_bad_header_or_signature(token, rule, message):
    result = check(token)

    assert not result.ok
    assert (result.code, result.rule, result.message) == ("EINVAL", rule, message)
    assert result.status == HTTPStatus.UNAUTHORIZED
    assert result.claims == {}


@pytest.mark.parametrize(
    ("overrides", "rule", "message"),
    [
        ({"iss": "someone-else"}, "iss", MSG_INVALID_ISS),
        ({"ver": "2.0"}, "ver", MSG_INVALID_VER),
        ({"ver": 1.1}, "ver", MSG_INVALID_VER),
        ({"aud": MISSING}, "aud", MSG_INVALID_AUD),
        ({"aud": "https://sigmacomputing.com/iam"}, "aud", MSG_INVALID_AUD),
        ({"aud": ["sigmacomputing"]}, "aud", MSG_INVALID_AUD),
        ({"iat": MISSING}, "time_type", MSG_INVALID_TIME),
        ({"exp": MISSING}, "time_type", MSG_INVALID_TIME),
        ({"iat": float(NOW)}, "time_type", MSG_INVALID_TIME),
        ({"exp": float(NOW + 3600)}, "time_type", MSG_INVALID_TIME),
        ({"iat": str(NOW)}, "time_type", MSG_INVALID_TIME),
        ({"exp": str(NOW + 3600)}, "time_type", MSG_INVALID_TIME),
        ({"iat": True}, "time_type", MSG_INVALID_TIME),
        ({"iat": NOW * 1000, "exp": NOW * 1000 + 3_600_000}, "time_milliseconds", MSG_INVALID_TIME),
        ({"exp": NOW * 1000}, "time_milliseconds", MSG_INVALID_TIME),
        ({"exp": NOW + 2_592_001}, "session_length", MSG_SESSION_LENGTH),
        ({"iat": NOW - 3601, "exp": NOW - 1}, "exp_past", MSG_EXP_PAST),
        ({"exp": NOW}, "exp_past", MSG_EXP_PAST),
        ({"iat": NOW + 61, "exp": NOW + 3600}, "iat_future", MSG_INVALID_TIME),
        ({"iat": NOW + 30, "exp": NOW + 20}, "exp_before_iat", MSG_INVALID_TIME),
        ({"sub": MISSING}, "email", MSG_INVALID_EMAIL),
        ({"sub": ""}, "email", MSG_INVALID_EMAIL),
        ({"sub": 42}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice_smith@example.com"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice@exa_mple.com"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice smith@example.com"}, "email", MSG_INVALID_EMAIL),
        ({"sub": " alice@example.com"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice@example.com\n"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice@example"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice@-example.com"}, "email", MSG_INVALID_EMAIL),
        ({"sub": "alice"}, "email", MSG_INVALID_EMAIL),
        ({"account_type": ""}, "account_type", MSG_INVALID_ACCOUNT_TYPE),
        ({"account_type": ["View"]}, "account_type", MSG_INVALID_ACCOUNT_TYPE),
        ({"teams": "Sales"}, "teams", MSG_INVALID_TEAMS),
        ({"teams": [""]}, "teams", MSG_INVALID_TEAMS),
        ({"teams": ["Sales", 3]}, "teams", MSG_INVALID_TEAMS),
        ({"first_name": 7}, "first_name", "Invalid first_name parameter"),
        ({"last_name": ["Lovelace"]}, "last_name", "Invalid last_name parameter"),
        ({"eval_connection_id": "prod"}, "eval_connection_id", MSG_INVALID_CONNECTION),
        ({"eval_connection_id": 42}, "eval_connection_id", MSG_INVALID_CONNECTION),
        ({"user_attributes": None}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"user_attributes": []}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"user_attributes": "region=West"}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"user_attributes": {"region": 1}}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"user_attributes": {"region": None}}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"user_attributes": {"": "West"}}, "user_attributes", MSG_INVALID_USER_ATTRIBUTES),
        ({"jti": MISSING}, "jti", MSG_INVALID_JTI),
        ({"jti": ""}, "jti", MSG_INVALID_JTI),
        ({"jti": 12345}, "jti", MSG_INVALID_JTI),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict) else None,
)
def test_verify_token_refuses_bad_claims(overrides, rule, message):
    result = check(make_token(claims(**overrides)))

    assert not result.ok
    assert (result.code, result.rule, result.message) == ("EINVAL", rule, message)
    assert result.status == HTTPStatus.UNAUTHORIZED


def test_verify_token_checks_in_sigma_order():
    """A token with several faults gets the error of the earliest check."""
    payload = claims(iss="someone-else", exp=NOW - 1, sub="bad_email@example.com")

    assert check(make_token(payload, secret="wrong-secret-of-enough-length-0123456789")).rule == (
        "signature"
    )
    assert check(make_token(payload)).rule == "iss"
    assert check(make_token({**payload, "iss": CLIENT_ID})).rule == "exp_past"


def test_verify_token_refuses_an_inactive_or_unknown_credential():
    result = verify_token(make_token(), lookup_secret=lambda kid: None, now=NOW)

    assert (result.rule, result.message) == ("kid_unknown", MSG_INVALID_CLIENT_ID)


def test_verify_token_refuses_a_replayed_jti():
    seen: set[str] = set()

    def remember(jti: str) -> bool:
        if jti in seen:
            return False
        seen.add(jti)
        return True

    token = make_token()

    assert check(token, claim_jti=remember).ok
    second = check(token, claim_jti=remember)
    assert (second.ok, second.rule, second.message) == (False, "replay", MSG_REPLAY)


def test_verify_token_leaves_the_jti_unused_when_another_check_fails():
    calls: list[str] = []

    result = check(
        make_token(claims(sub="bad_email@example.com")),
        claim_jti=lambda jti: calls.append(jti) or True,
    )

    assert result.rule == "email"
    assert calls == []


@pytest.mark.django_db
def test_claim_jti_records_each_jti_once():
    assert claim_jti("abc") is True
    assert claim_jti("abc") is False
    assert claim_jti("abd") is True
    assert sorted(SeenToken.objects.values_list("jti", flat=True)) == sorted(
        [jti_key("abc"), jti_key("abd")]
    )


@pytest.mark.django_db
def test_claim_jti_takes_a_jti_of_any_length():
    """Sigma documents no limit for jti; 255 characters is its legacy nonce rule."""
    long_jti = "j" * 2000

    assert check(make_token(claims(jti=long_jti)), claim_jti=claim_jti).ok
    assert claim_jti(long_jti) is False
    assert SeenToken.objects.get().jti == jti_key(long_jti)


@pytest.mark.django_db
def test_seen_token_jti_is_unique_in_the_database():
    """The database, not a read-then-write check, refuses a second row."""
    from django.db import IntegrityError, transaction

    SeenToken.objects.create(jti="once")

    with pytest.raises(IntegrityError), transaction.atomic():
        SeenToken.objects.create(jti="once")


@pytest.mark.django_db(transaction=True)
def test_claim_jti_lets_one_of_two_concurrent_claims_win():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection, connections

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Shared-cache in-memory SQLite answers a concurrent writer with "table is
        # locked" instead of waiting; the PostgreSQL pass runs this race for real.
        pytest.skip("needs a database that lets two connections write concurrently")

    barrier = Barrier(2)

    def race(_: int) -> bool:
        barrier.wait()
        try:
            return claim_jti("raced")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(race, range(2)))

    assert sorted(outcomes) == [False, True]
    assert SeenToken.objects.filter(jti=jti_key("raced")).count() == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA",
            ("workbook", "acme", "Sales-Overview", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, None),
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/",
            ("workbook", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, None),
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig",
            ("page", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", None, "GHs4vJQxig", None),
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/element/bAGJb_-0AS",
            ("element", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, "bAGJb_-0AS"),
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod/page/GHs4vJQxig",
            ("page", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", "prod", "GHs4vJQxig", None),
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            ("workbook", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", "prod", None, None),
        ),
        (
            "/acme/data-model/Orders-Model-4bq2ZtkLmV8xWn3pRs6HyA",
            ("data-model", "acme", "Orders-Model", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, None),
        ),
        (
            "/acme/data-model/Orders-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            ("data-model", "acme", "Orders", "4bq2ZtkLmV8xWn3pRs6HyA", "prod", None, None),
        ),
        ("/acme/ask", ("ask", "acme", "", "", None, None, None)),
        # Sigma's "API syntax": name and id as two segments, or the bare id.
        (
            "/acme/workbook/Sales/4bq2ZtkLmV8xWn3pRs6HyA",
            ("workbook", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, None),
        ),
        (
            "/acme/workbook/Sales/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            ("workbook", "acme", "Sales", "4bq2ZtkLmV8xWn3pRs6HyA", "prod", None, None),
        ),
        (
            "/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig",
            ("page", "acme", "", "4bq2ZtkLmV8xWn3pRs6HyA", None, "GHs4vJQxig", None),
        ),
        # The REST API's url (no name segment), as Sigma's list answers give it.
        (
            "/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA",
            ("workbook", "acme", "", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, None),
        ),
        (
            "/acme/data-model/7dKf3LmQ9wZx2Rt5Vb8NcA",
            ("data-model", "acme", "", "7dKf3LmQ9wZx2Rt5Vb8NcA", None, None, None),
        ),
        (
            "/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/element/bAGJb_-0AS",
            ("element", "acme", "", "4bq2ZtkLmV8xWn3pRs6HyA", None, None, "bAGJb_-0AS"),
        ),
    ],
)
def test_parse_content_path_splits_sigma_paths(path, expected):
    content = verify.parse_content_path(path)

    assert content is not None
    assert (
        content.kind,
        content.org,
        content.workbook_name,
        content.workbook_id,
        content.tag,
        content.page_id,
        content.element_id,
    ) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/",
        "/embed/1-5ROVG8NwQrGNLF31mh1VJS",
        "/acme/ask/x",
        "/acme/data-model/Model-short",
        "/acme/data-model/Model-4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig",
        "/Acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA",
        "/acme/workbook/Sales-short",
        "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/page/",
        "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/page/a/element/b",
        "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/element/a/tag/prod",
        "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/page/a/b",
        "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA\n",
    ],
)
def test_parse_content_path_refuses_other_paths(path):
    assert verify.parse_content_path(path) is None
