"""Pure validation of Sigma content URLs, embed interface options (spec §2.2, §3)
and the values a host user contributes to claims (Sigma email, user attributes).

Nothing here touches the database or a request: each function takes plain values
and returns a parsed value or raises ``ValidationError`` with a stable ``code`` and a
message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError

from .conf import sigma_settings
from .protocol import BOOLEAN_OPTIONS, BUILTIN_THEMES, MENU_POSITIONS  # noqa: F401  (re-exported)

# Spec §3, "Suggested host validation". The backtracking on ``name`` splits the
# workbook segment on its last hyphen: the trailing id is the key, the name is
# cosmetic.
_CONTENT_PATH = re.compile(
    r"^/(?P<org>[a-z0-9][a-z0-9-]*)/workbook/(?P<name>[^/?#]+)-(?P<workbook_id>[A-Za-z0-9]{16,32})"
    r"(?:/tag/(?P<tag>[^/?#]+))?"
    r"(?:/page/(?P<page_id>[A-Za-z0-9_-]+)|/element/(?P<element_id>[A-Za-z0-9_-]+))?/?$"
)

MSG_NOT_HTTPS = "Use an https:// URL; Sigma content is only served over https."
MSG_HOST_NOT_ALLOWED = (
    "The host %(origin)s is not an allowed Sigma origin. Allowed: %(allowed)s "
    "(setting SIGMA_ALLOWED_ORIGINS)."
)
MSG_LEGACY_EMBED = (
    "This is a legacy /embed/ URL, which JWT embedding does not use. Copy the "
    "published workbook's URL instead (…/workbook/Name-id)."
)
MSG_QUERY = (
    "Remove the query string (from '?' on). For one page or element, use the "
    "/page/<id> or /element/<id> path instead of :nodeId."
)
MSG_FRAGMENT = "Remove the fragment (from '#' on)."
MSG_CREDENTIALS_IN_URL = "Remove the user name or password from the URL."
MSG_BAD_PATH = (
    "This is not a Sigma workbook, page or element URL. Expected "
    "/{org}/workbook/{Name}-{workbookId}, optionally followed by /page/{pageId} "
    "or /element/{elementId}."
)
MSG_DOT_SEGMENTS = (
    "The path must not contain '.' or '..' segments (also percent-encoded, e.g. "
    "%2e%2e) or encoded slashes."
)


@dataclass(frozen=True)
class SigmaContent:
    """A validated Sigma content URL, split into its parts."""

    url: str
    origin: str
    org: str
    workbook_name: str
    workbook_id: str
    tag: str | None
    page_id: str | None
    element_id: str | None

    @property
    def kind(self) -> str:
        if self.element_id:
            return "element"
        if self.page_id:
            return "page"
        return "workbook"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _fully_unquoted(path: str) -> str:
    for _ in range(8):
        decoded = unquote(path)
        if decoded == path:
            return decoded
        path = decoded
    return path


def parse_sigma_url(url: str, *, allowed_origins: list[str] | None = None) -> SigmaContent:
    """Validate a Sigma content URL and return its parts.

    Refuses (``ValidationError`` with codes ``not_https``, ``host_not_allowed``,
    ``legacy_embed``, ``query``, ``fragment``, ``credentials``, ``dot_segments``,
    ``bad_path``): a scheme other than https (http only for a loopback origin that
    is explicitly allowed, i.e. the local emulator), a host outside the allowed
    origins, the legacy ``/embed/`` path, any query or fragment, and any path that
    is not a workbook, page or element.
    """
    if allowed_origins is None:
        allowed_origins = sigma_settings.ALLOWED_ORIGINS
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(MSG_BAD_PATH, code="bad_path") from None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise ValidationError(MSG_NOT_HTTPS, code="not_https")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(MSG_CREDENTIALS_IN_URL, code="credentials")
    default_port = 443 if parts.scheme == "https" else 80
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")
    if origin not in allowed_origins:
        raise ValidationError(
            MSG_HOST_NOT_ALLOWED,
            code="host_not_allowed",
            params={"origin": origin, "allowed": ", ".join(allowed_origins) or "none"},
        )
    if parts.path == "/embed" or parts.path.startswith("/embed/"):
        raise ValidationError(MSG_LEGACY_EMBED, code="legacy_embed")
    if "?" in url:
        raise ValidationError(MSG_QUERY, code="query")
    if "#" in url:
        raise ValidationError(MSG_FRAGMENT, code="fragment")
    # Security: judge the path as a browser or proxy will resolve it. Decode until
    # nothing changes (double encoding too), then refuse "." and ".." segments
    # ("%2e%2e" is ".."), encoded slashes and backslashes.
    decoded = _fully_unquoted(parts.path)
    if (
        any(segment in {".", ".."} for segment in decoded.split("/"))
        or decoded.count("/") != parts.path.count("/")
        or "\\" in decoded
    ):
        raise ValidationError(MSG_DOT_SEGMENTS, code="dot_segments")
    match = _CONTENT_PATH.match(parts.path)
    if match is None:
        raise ValidationError(MSG_BAD_PATH, code="bad_path")
    groups = match.groupdict()
    return SigmaContent(
        url=f"{origin}{parts.path.rstrip('/')}",
        origin=origin,
        org=groups["org"],
        workbook_name=groups["name"],
        workbook_id=groups["workbook_id"],
        tag=groups["tag"],
        page_id=groups["page_id"],
        element_id=groups["element_id"],
    )


def validate_sigma_url(url: str) -> None:
    """Model-field validator form of :func:`parse_sigma_url`."""
    parse_sigma_url(url)


# --- Interface options (spec §2.2, those that apply under JWT) ---------------

# The option names themselves are Sigma's (embeds.protocol); custom theme names are
# allowed if they match THEME_NAME.
# Patterns are applied with fullmatch: "$" alone also matches before a trailing
# newline, which would let "Light\n" through.
THEME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,32}(?:[-_][A-Za-z0-9]{1,16})?$")

MSG_THEME = "A theme name is letters, digits, spaces, '_' or '-' (up to 64)."
MSG_LANGUAGE = "A language is a Sigma locale name such as English or fr-ca."


def validate_theme(value: str) -> None:
    if value and not THEME_NAME.fullmatch(value):
        raise ValidationError(MSG_THEME, code="theme")


def validate_language(value: str) -> None:
    if value and not LANGUAGE.fullmatch(value):
        raise ValidationError(MSG_LANGUAGE, code="language")


# --- Control values (spec §2.3) ---------------------------------------------

CONTROL_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 _.-]{0,99}$")
MSG_CONTROL_ID = (
    "A control ID is letters, digits, spaces, '_', '.' or '-' (up to 100), as set "
    "in the workbook's control settings."
)
MSG_CONTROL_VALUE = "A control value is up to 1000 characters without control characters."


def validate_control_id(value: str) -> None:
    if not CONTROL_ID.fullmatch(value or "") or value.startswith(":"):
        raise ValidationError(MSG_CONTROL_ID, code="control_id")


def validate_control_value(value: str) -> None:
    if len(value) > 1000 or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(MSG_CONTROL_VALUE, code="control_value")


# --- Values a host user contributes to claims (spec §1.2) -------------------------

# Sigma (spec §1.2, `sub`): an RFC-1035-compliant email, no whitespace, no
# underscores. Local part: RFC 5322 atom characters minus "_"; domain: RFC 1035
# labels (letters, digits, inner hyphens) with an alphabetic top-level label.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
SIGMA_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")

MSG_EMAIL_EMPTY = "No email address is set."
MSG_EMAIL_INVALID = (
    "Sigma accepts only plain email addresses: no spaces, no underscores, and a "
    "domain made of letters, digits and hyphens."
)

# User attribute names as defined in Sigma (Administration > User attributes).
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ -]{0,99}$")
MSG_ATTRIBUTE_NAME = (
    "An attribute name starts with a letter and has letters, digits, spaces, '_' "
    "or '-' (up to 100), exactly as defined in Sigma."
)
MSG_ATTRIBUTE_VALUE = "An attribute value is up to 1000 characters without control characters."


def sigma_email_problem(value: str | None) -> str | None:
    """Return why ``value`` cannot be a Sigma ``sub``, or None when it can."""
    if value is None or not value.strip():
        return MSG_EMAIL_EMPTY
    if len(value) > 254 or "_" in value or not SIGMA_EMAIL.fullmatch(value):
        return MSG_EMAIL_INVALID
    return None


def validate_sigma_email(value: str) -> None:
    """Form/model validator; blank values are left to ``blank=True``."""
    if value and (problem := sigma_email_problem(value)):
        raise ValidationError(problem, code="sigma_email")


def validate_attribute_name(value: str) -> None:
    if not ATTRIBUTE_NAME.fullmatch(value or ""):
        raise ValidationError(MSG_ATTRIBUTE_NAME, code="attribute_name")


def validate_attribute_value(value: str) -> None:
    if len(value) > 1000 or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(MSG_ATTRIBUTE_VALUE, code="attribute_value")
