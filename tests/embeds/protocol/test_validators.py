"""Sigma content URL validation (spec §3), option values (spec §2.2), and the
Sigma email rule (spec §1.2 `sub`) with attribute names/values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from embeds import validators as field_validators
from embeds.protocol import validators

ORIGINS = ["https://app.sigmacomputing.com", "http://127.0.0.1:8001"]
WB = "https://app.sigmacomputing.com/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA"


def parse(url):
    return validators.parse_sigma_url(url, allowed_origins=ORIGINS)


@pytest.mark.spec("3")
@pytest.mark.parametrize(
    ("url", "kind", "workbook_id", "node"),
    [
        (WB, "workbook", "4bq2ZtkLmV8xWn3pRs6HyA", None),
        (WB + "/", "workbook", "4bq2ZtkLmV8xWn3pRs6HyA", None),
        (WB + "/page/GHs4vJQxig", "page", "4bq2ZtkLmV8xWn3pRs6HyA", "GHs4vJQxig"),
        (WB + "/element/bAGJb_-0AS", "element", "4bq2ZtkLmV8xWn3pRs6HyA", "bAGJb_-0AS"),
        (WB + "/tag/v2/page/GHs4vJQxig", "page", "4bq2ZtkLmV8xWn3pRs6HyA", "GHs4vJQxig"),
        (
            "https://app.sigmacomputing.com/sigma-docs/workbook/My-Plugs-Sales-Table-JWT-1aaaaaaaa2BBBB3CCCCCCCdE",
            "workbook",
            "1aaaaaaaa2BBBB3CCCCCCCdE",
            None,
        ),
        (
            "http://127.0.0.1:8001/demo-org/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "workbook",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
        ),
        # The REST API's workbook ``url`` (no name segment), and pages and elements
        # the picker appends to it.
        (
            "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA",
            "workbook",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
        ),
        (
            "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            "workbook",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
        ),
        (
            "https://app.sigmacomputing.com/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig",
            "page",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            "GHs4vJQxig",
        ),
        # API syntax: the workbookId UUID.
        (
            "https://app.sigmacomputing.com/acme/workbook/Sales/0b7c4a52-8f2e-4d1a-9c3b-5e6f7a8b9c0d",
            "workbook",
            "0b7c4a52-8f2e-4d1a-9c3b-5e6f7a8b9c0d",
            None,
        ),
    ],
)
def test_parse_accepts_workbook_page_and_element_paths(url, kind, workbook_id, node):
    content = parse(url)
    assert content.kind == kind
    assert content.workbook_id == workbook_id
    assert (content.page_id or content.element_id) == node
    assert not content.url.endswith("/")


def test_parse_splits_the_workbook_name_on_the_last_hyphen():
    content = parse(WB)
    assert (content.org, content.workbook_name) == ("acme", "Sales-Overview")


@pytest.mark.spec("3")
@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        (WB.replace("https", "http"), "not_https", validators.MSG_NOT_HTTPS),
        (
            "ftp://app.sigmacomputing.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "not_https",
            validators.MSG_NOT_HTTPS,
        ),
        (
            "https://evil.example.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "host_not_allowed",
            None,
        ),
        (
            "https://app.sigmacomputing.com.evil.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "host_not_allowed",
            None,
        ),
        (
            "https://app.sigmacomputing.com:8443/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "host_not_allowed",
            None,
        ),
        ("http://127.0.0.1:9999/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA", "host_not_allowed", None),
        (
            "https://app.sigmacomputing.com/embed/1-5ROVG8NwQrGNLF31mh1VJS",
            "legacy_embed",
            validators.MSG_LEGACY_EMBED,
        ),
        (WB + "?:nodeId=GHs4vJQxig", "query", validators.MSG_QUERY),
        (WB + "?", "query", validators.MSG_QUERY),
        (WB + "#top", "fragment", validators.MSG_FRAGMENT),
        (
            "https://user:pw@app.sigmacomputing.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "credentials",
            validators.MSG_CREDENTIALS_IN_URL,
        ),
        (
            "https://app.sigmacomputing.com/acme/workbook/../admin",
            "dot_segments",
            validators.MSG_DOT_SEGMENTS,
        ),
        (
            "https://app.sigmacomputing.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA%2Fx",
            "dot_segments",
            validators.MSG_DOT_SEGMENTS,
        ),
        ("https://app.sigmacomputing.com/acme/ask/more", "bad_path", validators.MSG_BAD_PATH),
        (
            "https://app.sigmacomputing.com/acme/data-model/M-4bq2ZtkLmV8xWn3pRs6HyA/page/p1",
            "bad_path",
            validators.MSG_BAD_PATH,
        ),
        ("https://app.sigmacomputing.com/acme/workbook/NoId", "bad_path", validators.MSG_BAD_PATH),
        (
            "https://app.sigmacomputing.com/Acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA",
            "bad_path",
            validators.MSG_BAD_PATH,
        ),
        (WB + "/page/a/element/b", "bad_path", validators.MSG_BAD_PATH),
        ("https://app.sigmacomputing.com", "bad_path", validators.MSG_BAD_PATH),
        ("", "not_https", validators.MSG_NOT_HTTPS),
        ("https://[::1", "bad_path", validators.MSG_BAD_PATH),
    ],
)
def test_parse_refuses_with_a_message_naming_the_problem(url, code, message):
    with pytest.raises(ValidationError) as caught:
        parse(url)
    assert caught.value.code == code
    if message is not None:
        assert caught.value.messages == [message]


def test_host_not_allowed_message_names_the_origin_and_the_setting():
    with pytest.raises(ValidationError) as caught:
        parse("https://evil.example.com/acme/workbook/W-4bq2ZtkLmV8xWn3pRs6HyA")
    (message,) = caught.value.messages
    assert "https://evil.example.com" in message
    assert "SIGMA_ALLOWED_ORIGINS" in message


def test_parse_reads_allowed_origins_from_settings_at_call_time(settings):
    settings.SIGMA_ALLOWED_ORIGINS = ["https://eu.sigmacomputing.com"]
    with pytest.raises(ValidationError):
        field_validators.parse_sigma_url(WB)
    assert field_validators.parse_sigma_url(WB.replace("app.", "eu.")).kind == "workbook"


@pytest.mark.parametrize("value", ["Light", "Dark", "Surface", "My Theme_2", ""])
def test_theme_accepts_builtin_and_custom_names(value):
    validators.validate_theme(value)


@pytest.mark.parametrize("value", ["Dark&:jwt=x", "<script>", " Dark", "x" * 65])
def test_theme_refuses_anything_that_could_inject_parameters(value):
    with pytest.raises(ValidationError):
        validators.validate_theme(value)


@pytest.mark.parametrize("value", ["English", "fr-ca", "pt_BR"])
def test_language_accepts_locale_names(value):
    validators.validate_language(value)


@pytest.mark.parametrize("value", ["en&x=1", "e", "English language"])
def test_language_refuses_others(value):
    with pytest.raises(ValidationError):
        validators.validate_language(value)


@pytest.mark.parametrize("value", [":jwt", "", "a&b", "x" * 101])
def test_control_id_refuses_colon_names_and_separators(value):
    with pytest.raises(ValidationError):
        validators.validate_control_id(value)


# --- Sigma email and user attributes (moved from tests/accounts) -----------------
@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    "email",
    ["alice@example.com", "a.b+c@sub.example.co", "x@a-b.io", "O'Brien@example.ie"],
)
def test_plain_emails_are_accepted(email):
    assert validators.sigma_email_problem(email) is None


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", validators.MSG_EMAIL_EMPTY),
        ("   ", validators.MSG_EMAIL_EMPTY),
        (None, validators.MSG_EMAIL_EMPTY),
        ("first_last@example.com", validators.MSG_EMAIL_INVALID),
        ("alice@my_host.example.com", validators.MSG_EMAIL_INVALID),
        ("alice @example.com", validators.MSG_EMAIL_INVALID),
        ("alice@example.com ", validators.MSG_EMAIL_INVALID),
        ("alice@-example.com", validators.MSG_EMAIL_INVALID),
        ("alice@example", validators.MSG_EMAIL_INVALID),
        ("alice@example.c0m", validators.MSG_EMAIL_INVALID),
        ("alice", validators.MSG_EMAIL_INVALID),
        ("a..b@example.com", validators.MSG_EMAIL_INVALID),
        ("alice@exa\nmple.com", validators.MSG_EMAIL_INVALID),
    ],
)
def test_emails_sigma_rejects_are_refused_with_the_reason(email, problem):
    assert validators.sigma_email_problem(email) == problem


def test_validate_sigma_email_raises_with_a_code():
    with pytest.raises(ValidationError) as caught:
        validators.validate_sigma_email("first_last@example.com")
    assert caught.value.code == "sigma_email"


@pytest.mark.parametrize("name", ["region", "Region Name", "cost_center-2"])
def test_attribute_names_accepted(name):
    validators.validate_attribute_name(name)


@pytest.mark.parametrize("name", ["", "1region", "region!", "x" * 101, " region"])
def test_attribute_names_refused(name):
    with pytest.raises(ValidationError):
        validators.validate_attribute_name(name)


def test_attribute_values_refuse_control_characters():
    validators.validate_attribute_value("West, Southwest")
    with pytest.raises(ValidationError):
        validators.validate_attribute_value("West\x00")


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (validators.validate_theme, "Light\n"),
        (validators.validate_language, "English\n"),
        (validators.validate_control_id, "Region\n"),
        (validators.validate_sigma_email, "alice@example.com\n"),
        (validators.validate_attribute_name, "A\n"),
    ],
)
def test_trailing_newline_is_refused(validator, value):
    """A regex "$" also matches before a final newline; the validators must not."""
    with pytest.raises(ValidationError):
        validator(value)
    validator(value.rstrip("\n"))


@pytest.mark.parametrize(
    "path",
    [
        "/tag/%2e%2e",  # percent-encoded ".."
        "/tag/%2E%2e",
        "/tag/.%2e",
        "/tag/%2e.",
        "/tag/%252e%252e",  # double-encoded
        "/tag/%2e",  # "." segment
        "/tag/%252f",  # double-encoded slash
        "/tag/a%5cb",  # backslash
    ],
)
def test_parse_refuses_encoded_dot_segments_and_slashes(path):
    with pytest.raises(ValidationError) as caught:
        parse(WB + path)
    assert caught.value.code == "dot_segments"
    assert caught.value.message == validators.MSG_DOT_SEGMENTS


def test_parse_accepts_encoded_characters_that_are_not_dots_or_slashes():
    assert parse(WB + "/tag/Q%203%20close").tag == "Q%203%20close"


@pytest.mark.spec("3")
@pytest.mark.parametrize(
    ("path", "kind", "syntax", "name", "content_id", "tag", "node"),
    [
        ("/acme/ask", "ask", "url", "", "", None, None),
        (
            "/acme/data-model/Orders-4bq2ZtkLmV8xWn3pRs6HyA",
            "data model",
            "url",
            "Orders",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
            None,
        ),
        (
            "/acme/data-model/Orders-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            "data model",
            "url",
            "Orders",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            "prod",
            None,
        ),
        (
            "/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            "workbook",
            "url",
            "Sales",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            "prod",
            None,
        ),
        (
            "/acme/workbook/Sales/4bq2ZtkLmV8xWn3pRs6HyA",
            "workbook",
            "api",
            "Sales",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
            None,
        ),
        (
            "/acme/workbook/Sales/4bq2ZtkLmV8xWn3pRs6HyA/tag/prod",
            "workbook",
            "api",
            "Sales",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            "prod",
            None,
        ),
        (
            "/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/page/GHs4vJQxig",
            "page",
            "api",
            "",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
            "GHs4vJQxig",
        ),
        (
            "/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA/element/bAGJb_-0AS",
            "element",
            "api",
            "",
            "4bq2ZtkLmV8xWn3pRs6HyA",
            None,
            "bAGJb_-0AS",
        ),
        (
            "/acme/workbook/Sales/1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "workbook",
            "api",
            "Sales",
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            None,
            None,
        ),
    ],
)
def test_parse_accepts_every_content_kind_and_sigmas_api_syntax(
    path, kind, syntax, name, content_id, tag, node
):
    content = parse("https://app.sigmacomputing.com" + path)

    assert (content.kind, content.syntax, content.workbook_name, content.workbook_id) == (
        kind,
        syntax,
        name,
        content_id,
    )
    assert content.tag == tag
    assert (content.page_id or content.element_id) == node
    # API syntax is accepted as Sigma documents it, not rewritten.
    assert content.url == "https://app.sigmacomputing.com" + path


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", True),
        ("1B4E28BA-2FA1-11D2-883F-0016D3CCA427", True),
        ("", True),
        ("prod-warehouse", False),
        ("1b4e28ba2fa111d2883f0016d3cca427", False),
        ("1b4e28ba-2fa1-11d2-883f-0016d3cca427\n", False),
    ],
)
def test_validate_connection_id_takes_only_a_uuid(value, ok):
    if ok:
        validators.validate_connection_id(value)
    else:
        with pytest.raises(ValidationError) as caught:
            validators.validate_connection_id(value)
        assert caught.value.code == "connection_id"
