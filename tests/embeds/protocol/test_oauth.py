"""embeds.protocol.oauth: node-embed-sdk compatible OAuth token encryption, the key cache and
the host's token provider."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from embeds.issuing.oauth import OAuthProviderError, provided_tokens
from embeds.protocol import oauth
from embeds.protocol.oauth import (
    KeyCache,
    OAuthTokenError,
    decrypt_token,
    encrypt_cached,
    encrypt_token,
    oauth_claims,
)

pytestmark = pytest.mark.spec("6")

VECTOR_SECRET = "my fake embed secret"
VECTOR_SALT = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
VECTOR_IV = bytes.fromhex("101112131415161718191a1b")
VECTOR = "AAECAwQFBgcICQoLDA0ODw==.EBESExQVFhcYGRob.VUCeBWSgFkfy+jRUsaX3Sg==.CNTvledzG8LtguX3Pg=="
CONNECTION = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
OAUTH_CANARY = "oauth-CANARY-7f3e-access-token"

# Node's crypto running node-embed-sdk's algorithm (encryption_utils.ts) as is:
# split on ".", Buffer.from(part, "base64"), pbkdf2Sync(secret, salt, 600000, 32,
# "sha256"), aes-256-gcm with the tag set before final().
NODE_SDK = r"""
const crypto = require("node:crypto");
const [mode, secret, value] = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const derive = (salt) => crypto.pbkdf2Sync(Buffer.from(secret, "utf8"), salt, 600000, 32, "sha256");
if (mode === "decrypt") {
  const parts = value.split(".");
  if (parts.length !== 4) throw new Error("Expected 4 components in encoded token.");
  const [salt, iv, tag, ct] = parts.map((p) => Buffer.from(p, "base64"));
  const d = crypto.createDecipheriv("aes-256-gcm", derive(salt), iv, { authTagLength: tag.length });
  d.setAuthTag(tag);
  process.stdout.write(Buffer.concat([d.update(ct), d.final()]).toString("utf8"));
} else {
  const salt = crypto.randomBytes(16), iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv("aes-256-gcm", derive(salt), iv, { authTagLength: 16 });
  const ct = Buffer.concat([c.update(Buffer.from(value, "utf8")), c.final()]);
  const tag = c.getAuthTag();
  process.stdout.write([salt, iv, tag, ct].map((b) => b.toString("base64")).join("."));
}
"""


def run_node(mode: str, secret: str, value: str) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Node interop check needs it")
    return subprocess.run(  # noqa: S603 - fixed script, JSON input on stdin
        [node, "-e", NODE_SDK],
        input=json.dumps([mode, secret, value]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_decrypt_token_reads_the_spec_vector():
    assert decrypt_token(VECTOR_SECRET, VECTOR) == "hello, world!"


def test_encrypt_token_reproduces_the_spec_vector_with_its_salt_and_iv():
    assert encrypt_token(VECTOR_SECRET, "hello, world!", salt=VECTOR_SALT, iv=VECTOR_IV) == VECTOR


def test_encrypt_token_output_has_the_sdk_shape():
    salt, iv, tag, ciphertext = encrypt_token("s" * 20, "x" * 10).split(".")

    assert (len(salt), len(iv), len(tag), len(ciphertext)) == (24, 16, 24, 16)


def test_encrypt_token_draws_a_new_salt_and_iv_each_time():
    first, second = (encrypt_token(VECTOR_SECRET, "same") for _ in range(2))

    assert first != second
    assert first.split(".")[0] != second.split(".")[0]


@pytest.mark.parametrize(
    "value",
    [
        "hello, world!",
        "(salt).(iv).(tag).(ciphertext)",
        "YQ==.Yg==.Yw==.ZA==",
        VECTOR + ".AAAA",
        VECTOR[:-4] + "AA==",
        "AAECAwQFBgcICQoLDA0ODw==.EBESExQVFhcYGRob.!!!!.CNTv",
    ],
)
def test_decrypt_token_refuses_malformed_or_tampered_values(value):
    with pytest.raises(OAuthTokenError):
        decrypt_token(VECTOR_SECRET, value)


def test_decrypt_token_refuses_a_wrong_secret():
    with pytest.raises(OAuthTokenError):
        decrypt_token("not the secret", VECTOR)


def test_encrypt_token_output_decrypts_in_node():
    encrypted = encrypt_cached(VECTOR_SECRET, OAUTH_CANARY, cache=KeyCache())

    result = run_node("decrypt", VECTOR_SECRET, encrypted)

    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout == OAUTH_CANARY


def test_node_decrypts_the_spec_vector_and_refuses_a_wrong_secret():
    assert run_node("decrypt", VECTOR_SECRET, VECTOR).stdout == "hello, world!"
    wrong = run_node("decrypt", "not the secret", VECTOR)
    assert wrong.returncode != 0
    assert "Unsupported state or unable to authenticate data" in wrong.stderr


def test_node_output_decrypts_here():
    result = run_node("encrypt", VECTOR_SECRET, "token with ünïcode")

    assert result.returncode == 0, result.stderr[-500:]
    assert decrypt_token(VECTOR_SECRET, result.stdout) == "token with ünïcode"


def test_key_cache_derives_once_per_secret_and_still_varies_each_output():
    cache = KeyCache()

    outputs = [encrypt_cached("secret-one-0123456789", OAUTH_CANARY, cache=cache) for _ in range(3)]
    encrypt_cached("secret-two-0123456789", OAUTH_CANARY, cache=cache)

    assert cache.derivations == 2
    assert len(set(outputs)) == 3  # a fresh IV every time
    assert {value.split(".")[0] for value in outputs} == {outputs[0].split(".")[0]}
    assert all(decrypt_token("secret-one-0123456789", v) == OAUTH_CANARY for v in outputs)


def test_key_cache_draws_a_new_salt_after_max_age():
    now = [1000.0]
    cache = KeyCache(max_age=60, clock=lambda: now[0])
    first = encrypt_cached("secret-0123456789", "t", cache=cache)

    now[0] += 61
    second = encrypt_cached("secret-0123456789", "t", cache=cache)

    assert cache.derivations == 2
    assert first.split(".")[0] != second.split(".")[0]


def test_key_cache_is_bounded():
    cache = KeyCache(size=2)
    for index in range(4):
        cache.key_for(f"secret-{index}-0123456789")

    assert len(cache._entries) == 2


def test_key_cache_never_holds_the_secret_or_a_token():
    cache = KeyCache()
    encrypt_cached("secret-CANARY-0123456789", OAUTH_CANARY, cache=cache)

    held = repr(cache._entries)
    assert "CANARY" not in held
    assert OAUTH_CANARY.encode().hex() not in held


def provide_org_token(user, embed):
    return OAUTH_CANARY


def provide_connection_tokens(user, embed):
    return {CONNECTION: OAUTH_CANARY}


def provide_nothing(user, embed):
    return None


def provide_bad_key(user, embed):
    return {"prod-warehouse": OAUTH_CANARY}


def provide_number(user, embed):
    return 42


def test_provided_tokens_is_none_without_the_setting(settings):
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = None

    assert provided_tokens(object(), object()) is None


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("provide_org_token", OAUTH_CANARY),
        ("provide_connection_tokens", {CONNECTION: OAUTH_CANARY}),
        ("provide_nothing", None),
    ],
)
def test_provided_tokens_calls_the_named_provider(settings, provider, expected):
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = f"tests.embeds.protocol.test_oauth.{provider}"

    assert provided_tokens(object(), object()) == expected


@pytest.mark.parametrize("provider", ["provide_bad_key", "provide_number"])
def test_provided_tokens_refuses_a_bad_answer_without_echoing_it(settings, provider):
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = f"tests.embeds.protocol.test_oauth.{provider}"

    with pytest.raises(OAuthProviderError) as raised:
        provided_tokens(object(), object())
    assert OAUTH_CANARY not in str(raised.value)


def test_provided_tokens_refuses_a_provider_that_cannot_be_imported(settings):
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = "tests.embeds.protocol.test_oauth.no_such_provider"

    with pytest.raises(OAuthProviderError, match="cannot be imported"):
        provided_tokens(object(), object())


def test_oauth_claims_encrypts_a_string_as_oauth_token():
    claims = oauth_claims(OAUTH_CANARY, secret=VECTOR_SECRET)

    assert list(claims) == ["oauth_token"]
    assert decrypt_token(VECTOR_SECRET, claims["oauth_token"]) == OAUTH_CANARY


def test_oauth_claims_encrypts_a_dict_as_connection_oauth_tokens():
    claims = oauth_claims({CONNECTION: OAUTH_CANARY}, secret=VECTOR_SECRET)

    assert list(claims) == ["connection_oauth_tokens"]
    assert decrypt_token(VECTOR_SECRET, claims["connection_oauth_tokens"][CONNECTION]) == (
        OAUTH_CANARY
    )
    assert oauth_claims(None, secret=VECTOR_SECRET) == {}


def test_module_iterations_match_the_sdk():
    assert (oauth.ITERATIONS, oauth.KEY_LENGTH, oauth.SALT_LENGTH, oauth.IV_LENGTH) == (
        600_000,
        32,
        16,
        12,
    )
