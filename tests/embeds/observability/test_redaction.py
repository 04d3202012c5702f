"""embeds.observability.redaction: the one place tokens are masked (logs, admin pages, reports)."""

from __future__ import annotations

import logging

import pytest

from embeds.observability import redaction
from embeds.observability.logging import RedactTokensFilter

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
ODD = "abcdefgh12.ijklmnop34.qrstuvwx56"  # token-shaped, no "eyJ" prefix
URL = f"https://h/a/workbook/W-1?:jwt={TOKEN}&:embed=true&Region=West"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (URL, "https://h/a/workbook/W-1?:jwt=[redacted]&:embed=true&Region=West"),
        (f"GET /x?%3Ajwt={TOKEN}&a=b", "GET /x?%3Ajwt=[redacted]&a=b"),
        (f"bare {TOKEN} here", "bare [redacted-jwt] here"),
        ("embeds.services.issue_embed_url", "embeds.services.issue_embed_url"),
        (f"odd {ODD}", f"odd {ODD}"),
    ],
)
def test_redact_masks_tokens_and_keeps_the_rest(text, expected):
    assert redaction.redact(text) == expected


def test_redact_untrusted_also_masks_token_shaped_runs():
    assert redaction.redact_untrusted(f"odd {ODD} and {TOKEN}") == (
        "odd [redacted-jwt] and [redacted-jwt]"
    )


def test_redact_url_keeps_options_and_controls():
    assert redaction.redact_url(URL) == (
        "https://h/a/workbook/W-1?:jwt=[redacted]&:embed=true&Region=West"
    )


def test_log_filter_uses_the_same_redaction():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "url=%s", (URL,), None)
    assert RedactTokensFilter().filter(record) is True
    assert record.getMessage() == "url=" + redaction.redact_url(URL)
    assert TOKEN not in record.getMessage()


def test_redact_untrusted_masks_tokens_with_percent_encoded_dots():
    encoded = TOKEN.replace(".", "%2E")
    assert redaction.redact_untrusted(f"x {encoded} y") == "x [redacted-jwt] y"
