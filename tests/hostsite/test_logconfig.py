"""Log lines: time, level, logger, request id; JSON on request; tokens masked on
every handler, including ones added next to the console."""

from __future__ import annotations

import io
import json
import logging

import pytest

from embeds.observability.logging import RedactTokensFilter
from hostsite.logconfig import build_logging, redact_every_handler
from hostsite.requestid import request_id_var

JWS = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
SIGNED_URL = f"https://app.sigmacomputing.com/acme/workbook/x?:jwt={JWS}&:embed=true"


def _all_handlers() -> list[logging.Handler]:
    manager = logging.root.manager
    loggers = [logging.root] + [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    handlers = {handler for logger in loggers for handler in logger.handlers}
    # pytest's own capture handlers come and go with each test.
    return [h for h in handlers if not type(h).__module__.startswith("_pytest")]


def test_every_configured_handler_carries_the_redaction_filter():
    handlers = _all_handlers()
    assert handlers, "Django's LOGGING configured no handler"
    for handler in handlers:
        assert any(isinstance(f, RedactTokensFilter) for f in handler.filters), handler


def test_settings_logging_redacts_on_every_handler(settings):
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_tokens" in handler["filters"], name


def test_a_second_handler_is_redacted_too(apply_logging, tmp_path):
    """A file handler added beside the console, fed by a propagating child logger."""
    console = io.StringIO()
    config = build_logging()
    config["handlers"]["console"]["stream"] = console
    config["handlers"]["file"] = {
        "class": "logging.FileHandler",
        "filename": str(tmp_path / "app.log"),
        "formatter": "default",
    }
    config["root"]["handlers"].append("file")
    apply_logging(redact_every_handler(config))

    logging.getLogger("embeds.anything").warning("Mounted %s (token %s)", SIGNED_URL, JWS)
    logging.getLogger("embeds.anything").error("plain %s", JWS)

    written = (tmp_path / "app.log").read_text()
    for text in (console.getvalue(), written):
        assert JWS not in text
        assert ":jwt=[redacted]" in text
        assert "plain [redacted-jwt]" in text


def test_text_lines_have_time_level_logger_and_request_id(apply_logging):
    stream = io.StringIO()
    config = build_logging(fmt="text")
    config["handlers"]["console"]["stream"] = stream
    apply_logging(config)
    token = request_id_var.set("trace-0000000000000003")
    try:
        logging.getLogger("embeds.issuing.issue").info("Issued %s", "x")
    finally:
        request_id_var.reset(token)
    logging.getLogger("embeds.issuing.issue").info("outside")
    first, second = stream.getvalue().splitlines()
    date, time, rest = first.split(" ", 2)
    assert len(date) == 10 and len(time) == 12  # 2026-11-25 10:00:00,000
    assert rest == "INFO embeds.issuing.issue [trace-0000000000000003] Issued x"
    assert second.endswith("INFO embeds.issuing.issue [-] outside")


def test_json_lines_are_objects_with_redacted_message_and_traceback(apply_logging):
    stream = io.StringIO()
    config = build_logging(fmt="json")
    config["handlers"]["console"]["stream"] = stream
    apply_logging(config)
    try:
        raise ValueError(f"bad url {SIGNED_URL}")
    except ValueError:
        logging.getLogger("django.request").exception(
            "Failed for %s", SIGNED_URL, extra={"status_code": 500, "request": object()}
        )
    line = stream.getvalue().strip()
    assert "\n" not in line
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert record["logger"] == "django.request"
    assert record["request_id"] == "-"
    assert record["time"].endswith("+00:00")
    assert record["status_code"] == 500
    assert "request" not in record  # the request object is never serialised
    assert JWS not in line
    assert record["message"].startswith("Failed for https://app.sigmacomputing.com/")
    assert "bad url" in record["exc_info"]


def test_build_logging_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        build_logging(fmt="xml")


@pytest.mark.parametrize(("level", "httpx_level"), [("INFO", "WARNING"), ("DEBUG", "DEBUG")])
def test_httpx_request_lines_are_shown_only_at_debug(level, httpx_level):
    loggers = build_logging(level=level)["loggers"]
    assert loggers["httpx"] == {"level": httpx_level}
    assert loggers["httpcore"] == {"level": httpx_level}
