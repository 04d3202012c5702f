"""No embed secret and no signed token in any error report, even with DEBUG on.

Exceptions are forced inside the signing path (a database error on the audit
insert, after the token exists; a failure inside PyJWT's HMAC step, where the key
is a local of third-party frames). The debug 500 page, the configured
``ExceptionReporter``'s text, Django's plain reporter and every log record are
searched for the canary secret and for anything shaped like a token.
"""

from __future__ import annotations

import logging
import re
import sys

import jwt
import pytest
from django.db import DatabaseError, connection
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.html import escape
from django.views.debug import ExceptionReporter, get_exception_reporter_class

from embeds import encryption as keys
from embeds import issuing, services, views
from embeds.admin import preview as admin_preview
from embeds.exceptions import OAuthUnavailable
from embeds.issuing import oauth as issuing_oauth
from embeds.management import commandline
from embeds.models import AccessRecord, Credential
from embeds.models.credentials import secret_fingerprint, validate_embed_secret
from embeds.observability.reporting import SUBSTITUTE, SecretSafeExceptionReporterFilter, scrub
from embeds.protocol import oauth as protocol_oauth
from embeds.protocol import signing
from tests.conftest import CANARY_SECRET

# N7: a user's plaintext OAuth token, as the host's provider returns it. Neither
# named like a secret nor shaped like a JWT: only the decorators can hide it.
OAUTH_CANARY = "oauth-plaintext-CANARY-4d7e1a"


def unencodable_token_provider(user, embed):
    """A provider answer that cannot be encrypted (a lone surrogate is not UTF-8)."""
    return OAUTH_CANARY + "\ud800"


TOKEN_SHAPES = re.compile(r"eyJ[A-Za-z0-9_-]{4,}|:jwt=(?!\[redacted)|%3Ajwt=(?!\[redacted)", re.I)


def leaks(text: str) -> list[str]:
    found = TOKEN_SHAPES.findall(text)
    if CANARY_SECRET in text or CANARY_SECRET.encode().hex() in text:
        found.append("canary secret")
    return found


def fail_audit_insert(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("INSERT") and "accessrecord" in sql.lower():
        raise DatabaseError("disk I/O error while writing the audit row")
    return execute(sql, params, many, context)


def exploding_hmac_sign(self, msg, key):
    raise RuntimeError("HMAC backend failed")


@pytest.fixture(params=["database_error_after_signing", "error_inside_pyjwt_hmac"])
def failure(request, monkeypatch):
    if request.param == "error_inside_pyjwt_hmac":
        monkeypatch.setattr(jwt.algorithms.HMACAlgorithm, "sign", exploding_hmac_sign)
        yield
    else:
        with connection.execute_wrapper(fail_audit_insert):
            yield


def all_log_text(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.mark.django_db
def test_debug_500_page_and_logs_show_neither_secret_nor_token(
    settings, alice, embed_factory, failure, caplog
):
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)
    embed = embed_factory()
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get(reverse("embeds:embed", kwargs={"slug": embed.slug}))
    page = response.content.decode()
    assert response.status_code == 500
    # It is Django's technical page, with frames and their variables...
    assert "Local vars" in page and "issue_embed_url" in page
    # ...from which the secret and every token are gone.
    assert leaks(page) == []
    assert any(r.name == "django.request" and r.exc_info for r in caplog.records)
    assert leaks(all_log_text(caplog)) == []


@pytest.mark.django_db
def test_exception_reporter_text_shows_neither_secret_nor_token(
    settings, alice, embed_factory, failure
):
    settings.DEBUG = True
    embed = embed_factory()
    request = RequestFactory().get("/embeds/x/?q=1")
    request.user = alice
    try:
        issuing.issue_embed_url(user=alice, embed=embed, source=AccessRecord.Source.PAGE)
    except (DatabaseError, RuntimeError):
        exc_info = sys.exc_info()
    else:
        raise AssertionError("the forced failure did not happen")
    configured = get_exception_reporter_class(request)(request, *exc_info)
    plain = ExceptionReporter(request, *exc_info)  # uses the configured filter too
    for reporter in (configured, plain):
        text = reporter.get_traceback_text()
        assert "sign_token" in text or "issue_embed_url" in text
        assert leaks(text) == []
        assert leaks(reporter.get_traceback_html()) == []
    frames = configured.get_traceback_data()["frames"]
    shown = {name: value for frame in frames for name, value in frame.get("vars", [])}
    assert shown["secret"] == repr(SUBSTITUTE)


def _frame_of(func):
    try:
        func()
    except ValueError:
        return sys.exc_info()[2].tb_next.tb_frame
    raise AssertionError("no exception")


def test_filter_hides_secret_named_values_and_token_values_in_any_frame(settings):
    settings.DEBUG = True
    token = jwt.encode({"sub": "a@example.com"}, "k" * 32, algorithm="HS256")

    def library_code():
        key = CANARY_SECRET.encode()  # noqa: F841  (a third-party frame's local)
        options = {"client_secret": CANARY_SECRET, "nested": [{"api_token": token}]}  # noqa: F841
        location = f"https://app.sigmacomputing.com/acme/workbook/x?:jwt={token}"  # noqa: F841
        header_only = token.split(".")[0]  # noqa: F841
        raise ValueError("boom")

    frame = _frame_of(library_code)
    shown = dict(SecretSafeExceptionReporterFilter().get_traceback_frame_variables(None, frame))
    assert shown["key"] == SUBSTITUTE
    assert shown["options"] == {
        "client_secret": SUBSTITUTE,
        "nested": [{"api_token": SUBSTITUTE}],
    }
    assert shown["location"] == ("https://app.sigmacomputing.com/acme/workbook/x?:jwt=[redacted]")
    assert shown["header_only"] == "[redacted-jwt]"


def test_filter_scrubs_settings_and_post_even_with_debug_on(settings):
    settings.DEBUG = True
    token = jwt.encode({"sub": "a@example.com"}, "k" * 32, algorithm="HS256")
    settings.SIGMA_SOME_LINK = f"https://app.sigmacomputing.com/a/workbook/b?:jwt={token}"
    settings.SIGMA_DEMO_SECRET = CANARY_SECRET
    safe = SecretSafeExceptionReporterFilter().get_safe_settings()
    assert safe["SIGMA_SOME_LINK"].endswith(":jwt=[redacted]")
    assert safe["SIGMA_DEMO_SECRET"] == SUBSTITUTE
    request = RequestFactory().post("/admin/x/")
    request.POST = QueryDict(mutable=True)
    request.POST.update({"embed_secret": CANARY_SECRET, "secret2": CANARY_SECRET, "note": token})
    posted = SecretSafeExceptionReporterFilter().get_post_parameters(request)
    assert posted["embed_secret"] == SUBSTITUTE and posted["secret2"] == SUBSTITUTE
    assert posted["note"] == "[redacted-jwt]"


def test_scrub_replaces_encoded_and_bare_tokens():
    token = jwt.encode({"sub": "a@example.com"}, "k" * 32, algorithm="HS256")
    assert leaks(scrub(f"a %3Ajwt={token} b {token} c")) == []


@pytest.mark.parametrize(
    "function",
    [
        issuing.issue_embed_url,
        services.create_credential,
        services.replace_credential_secret,
        signing.sign_token,
        signing.build_embed_url,
        signing.redact_url,
        Credential.set_secret,
        Credential.signing_secret,
        secret_fingerprint,
        validate_embed_secret,
        keys.decrypt_token,
        keys.encrypt_value,
        keys.reencrypt_token,
        commandline.read_secret,
        views.embed_page,
        views.embed_refresh,
        admin_preview.preview,
        issuing_oauth.provided_tokens,
        issuing_oauth.oauth_claims_for,
        protocol_oauth.oauth_claims,
        protocol_oauth.encrypt_cached,
        protocol_oauth.encrypt_token,
        protocol_oauth.encrypt_with_key,
    ],
    ids=lambda f: f.__qualname__,
)
def test_functions_holding_a_secret_or_token_are_marked_sensitive(function):
    """Layer 1 (names known in advance): Django's decorator wraps the function."""
    assert function.__code__.co_name == "sensitive_variables_wrapper"


@pytest.mark.django_db
def test_unencryptable_oauth_token_is_a_503_refusal_without_the_token(
    settings, alice, embed_factory, caplog
):
    """N7: the provider's answer cannot be encrypted: before, a 500 whose report held
    the plaintext token; now the oauth_unavailable page, and the token nowhere."""
    settings.DEBUG = True
    settings.SIGMA_OAUTH_TOKEN_PROVIDER = (
        "tests.security.test_tracebacks.unencodable_token_provider"
    )
    caplog.set_level(logging.DEBUG)
    embed = embed_factory()
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.get(reverse("embeds:embed", kwargs={"slug": embed.slug}))

    page = response.content.decode()
    assert response.status_code == 503
    assert escape(OAuthUnavailable.message) in page
    assert AccessRecord.objects.get().rule == OAuthUnavailable.code
    assert "could not be encrypted for user=" in caplog.text
    assert "UnicodeEncodeError" in caplog.text
    assert OAUTH_CANARY not in page + all_log_text(caplog)


def test_error_reports_from_inside_oauth_encryption_hide_the_plaintext_token(settings, monkeypatch):
    """N7: whatever fails while a token is being encrypted, the frames' plaintext is
    hidden from the configured and Django's own reporter, with DEBUG on."""
    settings.DEBUG = True

    def exploding_urandom(size):
        raise RuntimeError("no randomness for the IV")

    # Fails inside encrypt_with_key, where the plaintext is a local (AES-GCM itself
    # runs in cryptography's compiled code, which has no Python frame to show).
    protocol_oauth.key_cache.key_for(CANARY_SECRET)  # the salt is drawn before
    monkeypatch.setattr(protocol_oauth.os, "urandom", exploding_urandom)
    request = RequestFactory().get("/embeds/x/")
    try:
        protocol_oauth.oauth_claims(OAUTH_CANARY, secret=CANARY_SECRET)
    except RuntimeError:
        exc_info = sys.exc_info()
    else:
        raise AssertionError("the forced failure did not happen")
    configured = get_exception_reporter_class(request)(request, *exc_info)
    plain = ExceptionReporter(request, *exc_info)
    for reporter in (configured, plain):
        text = reporter.get_traceback_text()
        assert "encrypt_with_key" in text
        assert OAUTH_CANARY not in text
        assert OAUTH_CANARY not in reporter.get_traceback_html()
        assert leaks(text) == []
