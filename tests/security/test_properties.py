"""Bad input tried: property-based tests over every function that turns outside
input into something signed. Nothing crashes, nothing invalid is signed, every
refusal is a clear, one-line message from a known set.

``TRIED`` counts the inputs each property saw; run with ``-s`` to see the totals.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import unquote, urlsplit

import jwt
import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from embeds.protocol import signing
from embeds.protocol import validators as account_validators
from embeds.protocol import validators as embed_validators
from tests.conftest import CANARY_SECRET

TRIED: Counter[str] = Counter()
ORIGINS = ["https://app.sigmacomputing.com", "http://127.0.0.1:8001"]
PROFILE = settings(max_examples=400, deadline=None)


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    # Sub-counters ("... accepted", "... signed") are subsets, not extra inputs.
    total = sum(n for key, n in TRIED.items() if not key.endswith(("accepted", "signed")))
    print(f"\nproperty inputs tried: {total} " + json.dumps(dict(sorted(TRIED.items()))))


def one_line(message: str) -> bool:
    return bool(message) and "\n" not in message and len(message) < 400


# --- parse_sigma_url -------------------------------------------------------------

URL_MESSAGES = {
    embed_validators.MSG_NOT_HTTPS,
    embed_validators.MSG_LEGACY_EMBED,
    embed_validators.MSG_QUERY,
    embed_validators.MSG_FRAGMENT,
    embed_validators.MSG_CREDENTIALS_IN_URL,
    embed_validators.MSG_BAD_PATH,
    embed_validators.MSG_DOT_SEGMENTS,
}
URL_CODES = {
    "not_https",
    "host_not_allowed",
    "legacy_embed",
    "query",
    "fragment",
    "credentials",
    "dot_segments",
    "bad_path",
}

segment = st.text(
    alphabet=st.sampled_from("abcXYZ019-_.%/:?#@\\ \u00e9\u200b"), min_size=0, max_size=24
)
workbook_id = st.text(alphabet="ABCDEFGHJKabcdefgh0123456789", min_size=14, max_size=34)
hosts = st.sampled_from(
    [
        "https://app.sigmacomputing.com",
        "http://app.sigmacomputing.com",
        "https://evil.example",
        "http://127.0.0.1:8001",
        "https://app.sigmacomputing.com:443",
        "https://user:pw@app.sigmacomputing.com",
        "https://APP.SIGMACOMPUTING.COM",
        "javascript:",
        "//app.sigmacomputing.com",
        "",
    ]
)
tails = st.sampled_from(
    [
        "",
        "/",
        "?:nodeId=x",
        "#frag",
        "/page/p1",
        "/element/e-1_2",
        "/embed/x",
        "/../../x",
        "%2f..",
        "/tag/v2/page/p",
        "/page/../element/x",
    ]
)


org = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,15}\Z")
name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
good_tails = st.sampled_from(
    ["", "/", "/page/p1", "/element/e-1_2", "/tag/v2", "/tag/v2/page/Ab_9"]
)


@st.composite
def sigma_urls(draw) -> str:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.text(max_size=120))
    if kind == 1:  # well-formed, so the accepting path is exercised too
        return (
            f"{draw(st.sampled_from(ORIGINS))}/{draw(org)}/workbook/{draw(name)}-"
            f"{draw(workbook_id)}{draw(good_tails)}"
        )
    return (
        f"{draw(hosts)}/{draw(segment)}/workbook/{draw(segment)}-{draw(workbook_id)}"
        f"{draw(tails)}{draw(segment)}"
    )


@PROFILE
@given(sigma_urls())
def test_parse_sigma_url_accepts_only_allowed_content_or_refuses_clearly(url):
    TRIED["parse_sigma_url"] += 1
    try:
        content = embed_validators.parse_sigma_url(url, allowed_origins=ORIGINS)
    except ValidationError as exc:
        assert exc.code in URL_CODES
        (message,) = exc.messages
        assert one_line(message)
        if exc.code != "host_not_allowed":
            assert message in URL_MESSAGES
        return
    TRIED["parse_sigma_url accepted"] += 1
    parts = urlsplit(content.url)
    assert content.origin in ORIGINS
    assert f"{parts.scheme}://{parts.netloc}" == content.origin
    assert not parts.query and not parts.fragment and "?" not in content.url
    assert "#" not in content.url and "@" not in parts.netloc
    assert "/../" not in parts.path + "/" and "%2f" not in parts.path.lower()
    assert "/workbook/" in parts.path and not parts.path.startswith("/embed")
    # Normalised: parsing the result again gives the same thing.
    assert embed_validators.parse_sigma_url(content.url, allowed_origins=ORIGINS) == content


# --- build_claims / sign_token -----------------------------------------------------

texts = st.text(max_size=40)
# Half plausible values (so claims do get built), half anything.
maybe_int = st.one_of(
    st.integers(min_value=1, max_value=4_000_000_000),
    st.integers(min_value=2_592_000 - 5, max_value=2_592_000 + 5),
    st.integers(min_value=-10, max_value=10**13),
    st.booleans(),
    st.floats(allow_nan=True),
    st.none(),
    st.text(max_size=5),
)
names = st.text(min_size=1, max_size=20)


@PROFILE
@given(
    client_id=st.one_of(names, texts),
    email=st.one_of(st.emails(), texts),
    account_type=st.one_of(names, texts),
    teams=st.one_of(
        st.lists(names, min_size=1, max_size=4),
        st.lists(st.one_of(texts, st.none(), st.integers()), max_size=4),
        texts,
    ),
    attributes=st.one_of(
        st.none(),
        st.dictionaries(
            st.one_of(texts, st.integers()), st.one_of(texts, st.integers()), max_size=3
        ),
    ),
    now=maybe_int,
    ttl=maybe_int,
    jti=st.one_of(st.uuids().map(str), texts),
)
def test_build_claims_never_produces_claims_sigma_rejects(
    client_id, email, account_type, teams, attributes, now, ttl, jti
):
    TRIED["build_claims"] += 1
    try:
        claims = signing.build_claims(
            client_id=client_id,
            email=email,
            account_type=account_type,
            teams=teams,
            user_attributes=attributes,
            now=now,
            ttl=ttl,
            jti=jti,
        )
    except signing.SigningError as exc:
        assert one_line(str(exc))
        return
    TRIED["build_claims accepted"] += 1
    assert type(claims["iat"]) is int and type(claims["exp"]) is int
    assert 0 < claims["exp"] - claims["iat"] <= signing.MAX_TTL
    assert claims["iat"] < 100_000_000_000  # seconds, not milliseconds
    assert claims["sub"] == claims["sub"].strip() and claims["sub"]
    assert claims["iss"] == client_id and claims["aud"] == "sigmacomputing"
    assert claims["ver"] == "1.1" and claims["jti"] and claims["account_type"]
    assert claims["teams"] and all(isinstance(t, str) and t for t in claims["teams"])
    for key, value in claims.get("user_attributes", {}).items():
        assert isinstance(key, str) and key and isinstance(value, str)
    # What is signed is exactly what was built, and verifies with the secret.
    token = signing.sign_token(claims, secret=CANARY_SECRET, client_id=client_id)
    decoded = jwt.decode(
        token,
        CANARY_SECRET,
        algorithms=["HS256"],
        audience="sigmacomputing",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert decoded == claims
    assert jwt.get_unverified_header(token)["kid"] == client_id


# --- build_embed_url ------------------------------------------------------------------

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
param_text = st.text(
    alphabet=st.sampled_from("aZ09 _-.,:&=?#%+/;\u00e9\n"), min_size=0, max_size=16
)


option_names = st.one_of(
    st.sampled_from([":theme", ":menu_position", ":hide_menu", ":lng", ":jwt", ":embed"]),
    param_text,
)


@PROFILE
@given(
    options=st.lists(st.tuples(option_names, param_text), max_size=3),
    controls=st.lists(st.tuples(param_text, param_text), max_size=4),
    token=st.one_of(st.just(TOKEN), texts),
)
def test_build_embed_url_cannot_be_smuggled_a_second_token_or_parameter(options, controls, token):
    TRIED["build_embed_url"] += 1
    base = "https://app.sigmacomputing.com/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA"
    try:
        url = signing.build_embed_url(
            base, token=token, interface_options=options, control_values=controls
        )
    except signing.SigningError as exc:
        assert one_line(str(exc))
        return
    TRIED["build_embed_url accepted"] += 1
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == base and not parts.fragment
    items = parts.query.split("&")
    assert items[0] == f":jwt={token}" and items[1] == ":embed=true"
    # One item per option and control: no value can add a parameter of its own.
    assert len(items) == 2 + len(options) + len(controls)
    assert sum(item.startswith(":jwt=") for item in items) == 1
    for item, (control_id, value) in zip(items[2 + len(options) :], controls, strict=True):
        name, _, encoded = item.partition("=")
        assert not name.startswith(":") and unquote(name) == control_id
        assert unquote(encoded) == value
        assert "&" not in encoded and "#" not in encoded and "\n" not in encoded


# --- accounts.validators: emails, attribute names and values ------------------------

emails = st.one_of(
    st.emails(),
    texts,
    st.builds(lambda a, b: f"{a}@{b}", texts, texts),
)


@PROFILE
@given(emails)
def test_sigma_email_problem_accepts_only_emails_sigma_accepts(value):
    TRIED["sigma_email"] += 1
    problem = account_validators.sigma_email_problem(value)
    if problem is not None:
        assert problem in {account_validators.MSG_EMAIL_EMPTY, account_validators.MSG_EMAIL_INVALID}
        return
    TRIED["sigma_email accepted"] += 1
    local, _, domain = value.rpartition("@")
    assert local and "@" not in local and "." in domain
    assert "_" not in value and not any(ch.isspace() for ch in value)
    assert len(value) <= 254 and value.isascii()


@PROFILE
@given(texts, st.text(max_size=1100))
def test_attribute_name_and_value_validators(name, value):
    TRIED["attribute name/value"] += 1
    try:
        account_validators.validate_attribute_name(name)
    except ValidationError as exc:
        assert exc.messages == [account_validators.MSG_ATTRIBUTE_NAME]
    else:
        assert name[:1].isascii() and name[:1].isalpha() and len(name) <= 100
        assert all(ch.isascii() and (ch.isalnum() or ch in " _-") for ch in name)
    try:
        account_validators.validate_attribute_value(value)
    except ValidationError as exc:
        assert exc.messages == [account_validators.MSG_ATTRIBUTE_VALUE]
    else:
        assert len(value) <= 1000 and not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


# --- control ids and values --------------------------------------------------------------


@PROFILE
@given(texts, st.text(max_size=1100))
def test_control_validators(control_id, value):
    TRIED["control id/value"] += 1
    try:
        embed_validators.validate_control_id(control_id)
    except ValidationError as exc:
        assert exc.messages == [embed_validators.MSG_CONTROL_ID]
    else:
        assert control_id and not control_id.startswith(":") and len(control_id) <= 100
        # An accepted id survives the URL builder as exactly one parameter.
        url = signing.build_embed_url(
            "https://app.sigmacomputing.com/a/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            token=TOKEN,
            control_values=[(control_id, value)],
        )
        assert len(urlsplit(url).query.split("&")) == 3
    try:
        embed_validators.validate_control_value(value)
    except ValidationError as exc:
        assert exc.messages == [embed_validators.MSG_CONTROL_VALUE]
    else:
        assert len(value) <= 1000


# --- the whole service: tampered rows are never signed ------------------------------


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=emails, attribute=st.text(max_size=60))
def test_issue_embed_url_never_signs_invalid_stored_identity(
    settings, alice, embed_factory, email, attribute
):
    """Rows written around validation (raw updates) are refused, never signed."""
    from embeds import issuing
    from embeds.exceptions import Refusal
    from embeds.models import AccessRecord, SigmaProfile, SigmaProfileAttribute

    # PostgreSQL text cannot hold NUL, so such a row cannot exist to be tampered with.
    assume("\x00" not in email + attribute)
    TRIED["issue_embed_url tampered identity"] += 1
    settings.SIGMA_RATE_LIMIT = "off"
    embed = embed_factory()
    SigmaProfile.objects.filter(user=alice).update(sigma_email=email)
    SigmaProfileAttribute.objects.filter(profile__user=alice).update(value=attribute)
    try:
        signed = issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE)
    except Refusal as refusal:
        assert one_line(refusal.user_message)
        assert refusal.code in {"no_email"}
        return
    TRIED["issue_embed_url tampered identity signed"] += 1
    sub = signed.claims["sub"]
    assert account_validators.sigma_email_problem(sub) is None
    token = signed.url.split(":jwt=")[1].split("&")[0]
    claims = jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")
    assert claims == signed.claims


# --- config import -----------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.just(CANARY_SECRET)
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "client_id",
                    "secret_env",
                    "secret",
                    "slug",
                    "url",
                    "teams",
                    "controls",
                    "version",
                    "x",
                    "title",
                    "credential",
                    "username",
                    "attributes",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
documents = st.one_of(
    st.text(max_size=40),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 2, "1"])},
        optional={
            section: st.lists(json_values, max_size=2)
            for section in ("account_types", "teams", "credentials", "embeds", "users", "groups")
        },
    ).map(json.dumps),
)


@pytest.mark.django_db
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(documents)
def test_config_import_refuses_bad_documents_clearly_and_writes_nothing(db, text):
    from embeds import config
    from embeds.models import Credential, Embed, Team

    TRIED["config import"] += 1
    before = (Credential.objects.count(), Embed.objects.count(), Team.objects.count())
    try:
        config.import_config(text)
    except config.ConfigInvalid as exc:
        assert exc.problems and all(one_line(p) for p in exc.problems)
        assert CANARY_SECRET not in str(exc)
        assert (Credential.objects.count(), Embed.objects.count(), Team.objects.count()) == before
        return
    TRIED["config import accepted"] += 1
