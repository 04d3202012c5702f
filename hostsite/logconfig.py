"""Log configuration: one line per record with time, level, logger and request id.

``build_logging`` makes the ``LOGGING`` dict for Django and the ``logconfig_dict``
for gunicorn, so the server's own lines and the application's look alike. Text by
default; ``LOG_FORMAT=json`` gives one JSON object per line (python-json-logger).

The token-redaction filter (``embeds.observability.logging.RedactTokensFilter``) is put on every
handler of the dict by ``redact_every_handler``, which settings.py applies last,
whatever handlers a later edit adds: a filter on the root *logger* would not see records that child
loggers propagate, a filter on each *handler* does. The formatters also redact
their finished output, which covers tracebacks and JSON extras the filter never
sees.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from embeds.observability.redaction import redact

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ["levelname", "name", "request_id", "message"]
JSON_RENAMES = {"levelname": "level", "name": "logger"}
# Django's request logger attaches the request object; its repr carries the full
# path and query string, which a log line has no need of.
JSON_RESERVED = [*RESERVED_ATTRS, "request", "request_id"]
LOG_FORMATS = ("text", "json")


class TextFormatter(logging.Formatter):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", TEXT_FORMAT)
        kwargs.setdefault("defaults", {"request_id": "-"})
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", JSON_FIELDS)
        kwargs.setdefault("rename_fields", JSON_RENAMES)
        kwargs.setdefault("reserved_attrs", JSON_RESERVED)
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


FILTERS = {
    "redact_tokens": {"()": "embeds.observability.logging.RedactTokensFilter"},
    "request_id": {"()": "hostsite.requestid.RequestIdFilter"},
}


def redact_every_handler(config: dict) -> dict:
    """Put the redaction and request-id filters on every handler of ``config``."""
    for handler in config["handlers"].values():
        filters = handler.setdefault("filters", [])
        for name in FILTERS:
            if name not in filters:
                filters.append(name)
    return config


def build_logging(*, fmt: str = "text", level: str = "INFO", extra_loggers=()) -> dict:
    """A ``dictConfig`` dict: every record to stderr, formatted as ``fmt``.

    ``extra_loggers`` names loggers that keep handlers of their own elsewhere (e.g.
    gunicorn's) and are pointed at ours instead.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r}")
    formatter = (
        "hostsite.logconfig.RedactingJsonFormatter"
        if fmt == "json"
        else ("hostsite.logconfig.TextFormatter")
    )
    own = {"handlers": ["console"], "level": level, "propagate": False}
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": dict(FILTERS),
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default"},
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's DEFAULT_LOGGING gives these loggers handlers of their own
        # (console for DEBUG, mail_admins, django.server): route them to ours.
        "loggers": {name: dict(own) for name in ("django", "django.server", *extra_loggers)},
    }
    # httpx logs every request at INFO ("HTTP Request: GET …"), a dozen lines per
    # `sigma_check --remote`; embeds.remote.client logs what matters. Shown at DEBUG.
    for name in ("httpx", "httpcore"):
        config["loggers"][name] = {"level": "DEBUG" if level == "DEBUG" else "WARNING"}
    return redact_every_handler(config)
