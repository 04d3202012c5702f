"""Token redaction, one copy: for logs, admin pages and browser-reported text.

A signed URL is a bearer credential until it is used or expires, so nothing that
is logged, stored from a browser or shown back to an admin may carry its token.
No ORM, no request; ``sensitive_variables`` keeps the unredacted input out of
Django's error reports should anything below raise.
"""

from __future__ import annotations

import re

from django.views.decorators.debug import sensitive_variables

REDACTED = "[redacted]"
REDACTED_JWT = "[redacted-jwt]"

# A :jwt parameter (literal or percent-encoded colon) and its value.
_JWT_PARAM = re.compile(r"((?::|%3A)jwt=)[A-Za-z0-9_.\-%]+", re.IGNORECASE)
# A compact JWS as PyJWT writes ours: the header always starts with "eyJ" ('{"').
_COMPACT_JWS = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
# Any three dot-separated base64url runs: a JWS even without the "eyJ" prefix.
# Too eager for log lines (dotted names), right for text a browser sends us.
# The dots may arrive percent-encoded ("%2E") from a browser.
_ANY_JWS = re.compile(
    r"[A-Za-z0-9_-]{8,}(?:\.|%2[Ee])[A-Za-z0-9_-]{8,}(?:\.|%2[Ee])[A-Za-z0-9_-]{8,}"
)


@sensitive_variables("text")
def redact(text: str) -> str:
    """``text`` with every ``:jwt=`` value and every compact JWS replaced."""
    # Every log line passes here: skip the regular expressions when neither can
    # match (a :jwt= parameter needs "jwt", in any case; our JWS starts "eyJ").
    if "eyJ" not in text and "jwt" not in text.lower():
        return text
    return _COMPACT_JWS.sub(REDACTED_JWT, _JWT_PARAM.sub(r"\1" + REDACTED, text))


@sensitive_variables("text")
def redact_untrusted(text: str) -> str:
    """Like :func:`redact`, and any token-shaped run too (input from a browser)."""
    return _ANY_JWS.sub(REDACTED_JWT, redact(text))


@sensitive_variables("url")
def redact_url(url: str) -> str:
    """A signed embed URL with its token replaced, safe for logs and admin pages.

    Everything else (content path, ``:embed``, options, control values) is kept, so
    an admin can still see what was asked for.
    """
    return redact(url)
