"""Logging helpers: a filter that masks any signed token that reaches a record."""

import logging

from embeds.observability.redaction import redact

__all__ = ["RedactTokensFilter", "redact"]


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
