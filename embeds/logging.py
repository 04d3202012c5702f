"""Logging helpers: a filter that masks any signed token that reaches a record."""

import logging
import re

# A :jwt parameter (literal or percent-encoded colon) or a bare compact JWS.
_JWT_PARAM = re.compile(r"((?::|%3A)jwt=)[A-Za-z0-9_.\-%]+", re.IGNORECASE)
_COMPACT_JWS = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def redact(text: str) -> str:
    """Return text with every signed token replaced by a marker."""
    return _COMPACT_JWS.sub("[redacted-jwt]", _JWT_PARAM.sub(r"\1[redacted]", text))


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
