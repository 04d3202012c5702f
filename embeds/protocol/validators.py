"""Pure validation of Sigma content URLs, embed interface options (spec §2.2, §3)
and the values a host user contributes to claims (Sigma email, user attributes).

Nothing here touches the database or a request: each function takes plain values
and returns a parsed value or raises ``ValidationError`` with a stable ``code`` and a
message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import SplitResult, unquote, urlsplit

from django.core.exceptions import ValidationError

from embeds.protocol.constants import BOOLEAN_OPTIONS, BUILTIN_THEMES, MENU_POSITIONS  # noqa: F401  (re-exported)

# Sigma's JWTDOC ("What URL to use"): the browser "URL syntax" of a workbook, a
# tagged version, a page or an element; a data model (and its tagged versions);
# Ask Sigma; and the "API syntax" the REST API returns. The backtracking on
# ``name`` splits a browser segment on its last hyphen: the trailing id is the
# key, the name is cosmetic.
_TAG = r"(?:/tag/(?P<tag>[^/?#]+))?"
# One page or one element; optional after a workbook, required after a bare id.
_NODE = r"(?:/page/(?P<page_id>[A-Za-z0-9_-]+)|/element/(?P<element_id>[A-Za-z0-9_-]+))?"
_ID = r"(?P<workbook_id>[A-Za-z0-9]{16,32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
_ORG = r"^/(?P<org>[a-z0-9][a-z0-9-]*)"
_CONTENT_PATHS = (
    # (document, syntax, pattern)
    ("workbook", "url", re.compile(rf"{_ORG}/workbook/(?P<name>[^/?#]+)-{_ID}{_TAG}{_NODE}/?\Z")),
    ("data-model", "url", re.compile(rf"{_ORG}/data-model/(?P<name>[^/?#]+)-{_ID}{_TAG}/?\Z")),
    ("workbook", "api", re.compile(rf"{_ORG}/workbook/(?P<name>[^/?#]+)/{_ID}{_TAG}/?\Z")),
    # The REST API's ``url`` (``/{org}/workbook/{workbookUrlId}``, no name) and the API
    # syntax's bare id, optionally a tag, then a page or an element.
    ("workbook", "api", re.compile(rf"{_ORG}/workbook/{_ID}{_TAG}{_NODE}/?\Z")),
    ("data-model", "api", re.compile(rf"{_ORG}/data-model/(?P<name>[^/?#]+)/{_ID}{_TAG}/?\Z")),
    ("data-model", "api", re.compile(rf"{_ORG}/data-model/{_ID}{_TAG}/?\Z")),
    ("ask", "url", re.compile(rf"{_ORG}/ask/?\Z")),
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
    "This is not a Sigma workbook, page, element, data model or Ask Sigma URL. "
    "Expected /{org}/workbook/{Name}-{workbookId} (or the REST API's "
    "/{org}/workbook/{workbookId}), optionally followed by /tag/{tag} and "
    "/page/{pageId} or /element/{elementId}; /{org}/data-model/{Name}-{dataModelId} "
    "(or /{org}/data-model/{dataModelId}); or /{org}/ask."
)
MSG_DOT_SEGMENTS = (
    "The path must not contain '.' or '..' segments (also percent-encoded, e.g. "
    "%2e%2e) or encoded slashes."
)


@dataclass(frozen=True)
class SigmaContent:
    """A validated Sigma content URL, split into its parts.

    ``document`` is ``workbook``, ``data-model`` or ``ask``; ``syntax`` is
    ``url`` (what the browser shows) or ``api`` (what the REST API returns; Sigma
    accepts both). For Ask Sigma the name and id are empty.
    """

    url: str
    origin: str
    org: str
    workbook_name: str
    workbook_id: str
    tag: str | None
    page_id: str | None
    element_id: str | None
    document: str = "workbook"
    syntax: str = "url"

    @property
    def kind(self) -> str:
        if self.document == "data-model":
            return "data model"
        if self.document == "ask":
            return "ask"
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


def parse_sigma_url(url: str, *, allowed_origins: Sequence[str]) -> SigmaContent:
    """Validate a Sigma content URL and return its parts.

    Refuses (``ValidationError`` with codes ``not_https``, ``host_not_allowed``,
    ``legacy_embed``, ``query``, ``fragment``, ``credentials``, ``dot_segments``,
    ``bad_path``): a scheme other than https (http only for a loopback origin that
    is explicitly allowed, i.e. the local emulator), a host outside the allowed
    origins, the legacy ``/embed/`` path, any query or fragment, and any path that
    is not a workbook (URL or API syntax, optionally a tag, page or element), a
    data model (optionally a tag) or Ask Sigma.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(MSG_BAD_PATH, code="bad_path") from None
    origin = _allowed_origin(parts, port, allowed_origins)
    _check_path(url, parts.path)
    found = next(
        ((doc, syn, m) for doc, syn, pat in _CONTENT_PATHS if (m := pat.match(parts.path))),
        None,
    )
    if found is None:
        raise ValidationError(MSG_BAD_PATH, code="bad_path")
    document, syntax, match = found
    groups = match.groupdict()
    return SigmaContent(
        url=f"{origin}{parts.path.rstrip('/')}",
        origin=origin,
        org=groups["org"],
        workbook_name=groups.get("name") or "",
        workbook_id=groups.get("workbook_id") or "",
        tag=groups.get("tag"),
        page_id=groups.get("page_id"),
        element_id=groups.get("element_id"),
        document=document,
        syntax=syntax,
    )


def _allowed_origin(parts: SplitResult, port: int | None, allowed: Sequence[str]) -> str:
    """The URL's origin, refused unless https (or loopback http), bare and allowed."""
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise ValidationError(MSG_NOT_HTTPS, code="not_https")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(MSG_CREDENTIALS_IN_URL, code="credentials")
    default_port = 443 if parts.scheme == "https" else 80
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")
    if origin not in allowed:
        raise ValidationError(
            MSG_HOST_NOT_ALLOWED,
            code="host_not_allowed",
            params={"origin": origin, "allowed": ", ".join(allowed) or "none"},
        )
    return origin


def _check_path(url: str, path: str) -> None:
    """Refuse the legacy embed path, any query or fragment, and dot segments."""
    if path == "/embed" or path.startswith("/embed/"):
        raise ValidationError(MSG_LEGACY_EMBED, code="legacy_embed")
    if "?" in url:
        raise ValidationError(MSG_QUERY, code="query")
    if "#" in url:
        raise ValidationError(MSG_FRAGMENT, code="fragment")
    # Security: judge the path as a browser or proxy will resolve it. Decode until
    # nothing changes (double encoding too), then refuse "." and ".." segments
    # ("%2e%2e" is ".."), encoded slashes and backslashes.
    decoded = _fully_unquoted(path)
    if (
        any(segment in {".", ".."} for segment in decoded.split("/"))
        or decoded.count("/") != path.count("/")
        or "\\" in decoded
    ):
        raise ValidationError(MSG_DOT_SEGMENTS, code="dot_segments")


# --- Interface options (spec §2.2, those that apply under JWT) ---------------

# The option names themselves are Sigma's (embeds.protocol.constants); custom theme names are
# allowed if they match THEME_NAME.
# Patterns are applied with fullmatch: "$" alone also matches before a trailing
# newline, which would let "Light\n" through.
THEME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,32}(?:[-_][A-Za-z0-9]{1,16})?$")

MSG_THEME = "A theme name is letters, digits, spaces, '_' or '-' (up to 64)."
MSG_LANGUAGE = "A language is a Sigma locale name such as English or fr-ca."
# The name of a custom translation file (Sigma: case-sensitive, URL-encoded in the
# URL). "," and ":" would stay literal in the URL (option values are encoded like
# control values), so they are refused, as are control characters.
LANGUAGE_VARIANT = re.compile(r"^[^\x00-\x1f\x7f,:]{1,100}$")
MSG_LANGUAGE_VARIANT = (
    "A translation variant is the exact name of a custom translation in Sigma "
    "(case-sensitive, up to 100 characters, no ',' or ':')."
)


def refuse_unless_matched(
    pattern: re.Pattern[str], value: str | None, message: str, *, code: str, blank_ok: bool
) -> None:
    """Raise ``ValidationError(message, code=code)`` unless ``pattern`` matches all of
    ``value`` (fullmatch: a trailing newline is not let through). A blank value passes
    when ``blank_ok`` (the field's own ``blank=True`` decides), else it is refused."""
    if (value or not blank_ok) and not pattern.fullmatch(value or ""):
        raise ValidationError(message, code=code)


def refuse_unless_plain_text(value: str, message: str, *, code: str, limit: int = 1000) -> None:
    """Raise ``ValidationError(message, code=code)`` for a value over ``limit``
    characters or with a control character (C0 or DEL): values that travel in a
    URL or a token as text."""
    if len(value) > limit or has_control_characters(value):
        raise ValidationError(message, code=code)


def has_control_characters(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def validate_theme(value: str) -> None:
    refuse_unless_matched(THEME_NAME, value, MSG_THEME, code="theme", blank_ok=True)


def validate_language(value: str) -> None:
    refuse_unless_matched(LANGUAGE, value, MSG_LANGUAGE, code="language", blank_ok=True)


def validate_language_variant(value: str) -> None:
    if value and (not LANGUAGE_VARIANT.fullmatch(value) or value != value.strip()):
        raise ValidationError(MSG_LANGUAGE_VARIANT, code="lng_variant")


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
    refuse_unless_plain_text(value, MSG_CONTROL_VALUE, code="control_value")


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
    refuse_unless_matched(
        ATTRIBUTE_NAME, value, MSG_ATTRIBUTE_NAME, code="attribute_name", blank_ok=False
    )


def validate_attribute_value(value: str) -> None:
    refuse_unless_plain_text(value, MSG_ATTRIBUTE_VALUE, code="attribute_value")


# --- Connection IDs (eval_connection_id, connection_oauth_tokens keys) --------

# Sigma connection IDs are UUIDs (the REST API's connectionId, and the last path
# segment of a connection's URL in Sigma).
CONNECTION_ID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
MSG_CONNECTION_ID = (
    "A Sigma connection ID is a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427 "
    "(Administration > Connections, or GET /v2/connections)."
)


def validate_connection_id(value: str) -> None:
    """Refuse anything but a Sigma connection ID (a UUID); blank means none."""
    refuse_unless_matched(
        CONNECTION_ID, value, MSG_CONNECTION_ID, code="connection_id", blank_ok=True
    )
