"""Token checks of the local Sigma emulator, in Sigma's order (spec §1, §8).

Independent of the host's signing code on purpose: it decodes with PyJWT and
checks every claim itself, so a bug in ``embeds.protocol.signing`` cannot be mirrored here.
Pure apart from the two callables it is given (secret lookup and jti recording);
the clock is a parameter.

Codes are Sigma's documented ones (EINVAL, EPERM, EACCES, ENOENT; spec §8; some
refusals carry none, as on Sigma). Where Sigma
publishes the message (its help center and quickstarts: "Invalid kid parameter",
"Invalid time", "connection_oauth_tokens is only supported in ver 1.1", "Invalid
encrypted token", ...) it is used verbatim. Where it publishes none (alg, iss,
ver, aud, account_type, names, user_attributes, eval_connection_id, jti) the
message follows Sigma's own "Invalid <claim> parameter" pattern; the replay
message is the emulator's (Sigma documents the rule, not its text), so nothing
may depend on its wording. ``rule`` is an emulator-only, stable name for each
check, for tests and logs.

Strict as Sigma and no stricter: ``account_type`` and ``teams`` are optional
(internal users must not send them; Sigma gives a new embed user the highest
account type without one), but each team sent must exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import jwt

from .oauth import decrypt_sdk_token

# Re-exported: the query string was read here before it had a module of its own.
from .query import ControlReading as ControlReading
from .query import read_control_value as read_control_value
from .query import read_query as read_query

ALGORITHM = "HS256"
AUDIENCE = "sigmacomputing"
VERSIONS = frozenset({"1.0", "1.1"})
MAX_SESSION_LENGTH = 2_592_000  # exp - iat, 30 days (spec §1.2)
MAX_IAT_SKEW = 60  # seconds an iat may lie in the future [inference]
# Epoch seconds pass this in the year 5138; a millisecond value is far above it.
MAX_EPOCH_SECONDS = 100_000_000_000

CODE_INVALID = "EINVAL"
CODE_NOT_FOUND = "ENOENT"
CODE_PERMISSION = "EPERM"
# Sigma's JWT error page ("Common embed error codes and messages"): EACCES when
# "the embedded workbook is not shared or no longer shared with the user".
CODE_ACCESS = "EACCES"
# Some refusals "do not return a code, but display a message to the user" (same page).
NO_CODE = ""

MSG_INVALID_KID = "Invalid kid parameter"
MSG_INVALID_CLIENT_ID = "Invalid clientID"
MSG_INVALID_SECRET = "Invalid embed secret"  # noqa: S105 - a message, not a secret
MSG_INVALID_ALG = "Invalid alg parameter"
MSG_INVALID_ISS = "Invalid iss parameter"
MSG_INVALID_VER = "Invalid ver parameter"
MSG_INVALID_AUD = "Invalid aud parameter"
MSG_INVALID_TIME = "Invalid time"
MSG_SESSION_LENGTH = "Session length has been exceeded"
MSG_EXP_PAST = "exp cannot be in the past"
MSG_INVALID_EMAIL = "Invalid email"
MSG_INVALID_ACCOUNT_TYPE = "Invalid account_type parameter"
MSG_INVALID_TEAMS = "Invalid external_user_team"
MSG_INVALID_USER_ATTRIBUTES = "Invalid user_attributes parameter"
MSG_INVALID_NAME = "Invalid %s parameter"  # first_name / last_name
MSG_INVALID_CONNECTION = "Invalid eval_connection_id parameter"
MSG_OAUTH_VERSION = "%s is only supported in ver 1.1"  # oauth_token / connection_oauth_tokens
MSG_INVALID_ENCRYPTED_TOKEN = "Invalid encrypted token"  # noqa: S105 - a message
MSG_OWNER_ONLY = "Invalid sub parameter"
MSG_INVALID_JTI = "Invalid jti parameter"
MSG_REPLAY = "This embed URL has already been used (jti replay)"
MSG_INVALID_PATH = "Invalid embed_path"
# Sigma's text, verbatim ("Common embed error codes and messages", JWT).
MSG_INTERNAL_USER_CLAIMS = (
    "You don't have permission to access this page. Cannot update account type for internal users."
)

# "Internal users can't update optional claims in the JWT URL ... such as
# first_name, last_name, user_attributes, teams or account_type" (the same page).
INTERNAL_USER_REFUSED_CLAIMS = (
    "account_type",
    "teams",
    "user_attributes",
    "first_name",
    "last_name",
)

# RFC 1035 labels (letters, digits, inner hyphens; RFC 1123 lets them start with a
# digit), a TLD of letters, and a local part without whitespace or underscores.
# \Z, not $: "$" would let a trailing newline through.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+)*"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}\Z")
# A Sigma connection ID is a UUID (REST API connectionId).
CONNECTION_ID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")

# What Sigma serves (its "Create an embed API with JSON web tokens" page): the
# browser "URL syntax" of a workbook, optionally a tag, then one page or one
# element; a data model, optionally a tag; Ask Sigma; and the "API syntax"
# (name and id as two segments, or the bare id before /page or /element).
_WB_ID = r"(?P<workbook_id>[A-Za-z0-9]{16,32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
_TAG_PART = r"(?:/tag/(?P<tag>[^/?#]+))?"
_NODE_PART = r"(?:/page/(?P<page_id>[A-Za-z0-9_-]+)|/element/(?P<element_id>[A-Za-z0-9_-]+))"
_ORG_PART = r"^/(?P<org>[a-z0-9][a-z0-9-]*)"
CONTENT_PATHS = (
    ("workbook", "url", rf"/workbook/(?P<workbook_name>[^/?#]+)-{_WB_ID}{_TAG_PART}{_NODE_PART}?"),
    ("data-model", "url", rf"/data-model/(?P<workbook_name>[^/?#]+)-{_WB_ID}{_TAG_PART}"),
    ("workbook", "api", rf"/workbook/(?P<workbook_name>[^/?#]+)/{_WB_ID}{_TAG_PART}{_NODE_PART}?"),
    # The REST API's ``url`` (no name segment), or the bare id before /page, /element.
    ("workbook", "api", rf"/workbook/{_WB_ID}{_TAG_PART}{_NODE_PART}?"),
    ("data-model", "api", rf"/data-model/(?P<workbook_name>[^/?#]+)/{_WB_ID}{_TAG_PART}"),
    ("data-model", "api", rf"/data-model/{_WB_ID}{_TAG_PART}"),
    ("ask", "url", r"/ask"),
)
CONTENT_PATH_PATTERNS = tuple(
    (document, syntax, re.compile(rf"{_ORG_PART}{pattern}/?\Z"))
    for document, syntax, pattern in CONTENT_PATHS
)


@dataclass(frozen=True)
class Content:
    """The parts of a Sigma content path (name and id are empty for Ask Sigma)."""

    org: str
    workbook_name: str = ""
    workbook_id: str = ""
    tag: str | None = None
    page_id: str | None = None
    element_id: str | None = None
    document: str = "workbook"
    syntax: str = "url"

    @property
    def kind(self) -> str:
        if self.document != "workbook":
            return self.document
        if self.element_id:
            return "element"
        if self.page_id:
            return "page"
        return "workbook"


def parse_content_path(path: str) -> Content | None:
    """The content a Sigma path names, or None when it is not a content path."""
    for document, syntax, pattern in CONTENT_PATH_PATTERNS:
        match = pattern.match(path)
        if match is not None:
            # The group names are Content's field names; absent groups keep defaults.
            found = {name: value for name, value in match.groupdict().items() if value}
            return Content(document=document, syntax=syntax, **found)
    return None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_token`: claims when ``ok``, else Sigma's error."""

    ok: bool
    claims: Mapping[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""
    rule: str = ""
    status: int = HTTPStatus.OK

    @classmethod
    def accept(cls, claims: Mapping[str, Any]) -> VerifyResult:
        return cls(ok=True, claims=dict(claims))

    @property
    def oauth_connections(self) -> list[str]:
        """Which OAuth tokens the token carried ("organization" and connection IDs)."""
        found = ["organization"] if "oauth_token" in self.claims else []
        return found + sorted(self.claims.get("connection_oauth_tokens") or {})

    @classmethod
    def refuse(
        cls,
        rule: str,
        message: str,
        *,
        code: str = CODE_INVALID,
        status: int = HTTPStatus.UNAUTHORIZED,
    ) -> VerifyResult:
        return cls(ok=False, code=code, message=message, rule=rule, status=status)


def _is_int(value: object) -> bool:
    # bool is an int subclass; 1.0 and "1" are refused like Sigma refuses them.
    return isinstance(value, int) and not isinstance(value, bool)


def is_sigma_email(value: object) -> bool:
    """Sigma's ``sub`` rule: RFC-1035 email, no whitespace, no underscores."""
    return (
        isinstance(value, str)
        and len(value) <= 254
        and "_" not in value
        and _EMAIL.match(value) is not None
    )


def _check_times(claims: Mapping[str, Any], now: int) -> VerifyResult | None:
    iat, exp = claims.get("iat"), claims.get("exp")
    if not _is_int(iat) or not _is_int(exp):
        return VerifyResult.refuse("time_type", MSG_INVALID_TIME)
    if iat > MAX_EPOCH_SECONDS or exp > MAX_EPOCH_SECONDS:
        return VerifyResult.refuse("time_milliseconds", MSG_INVALID_TIME)
    if exp - iat > MAX_SESSION_LENGTH:
        return VerifyResult.refuse("session_length", MSG_SESSION_LENGTH)
    if exp <= now:
        return VerifyResult.refuse("exp_past", MSG_EXP_PAST)
    if iat > now + MAX_IAT_SKEW:
        return VerifyResult.refuse("iat_future", MSG_INVALID_TIME)
    if exp <= iat:
        return VerifyResult.refuse("exp_before_iat", MSG_INVALID_TIME)
    return None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_name_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_text(item) for item in value)


def _is_string_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        _is_text(key) and isinstance(item, str) for key, item in value.items()
    )


def _is_connection_id(value: object) -> bool:
    return isinstance(value, str) and CONNECTION_ID.match(value) is not None


def _check_user(claims: Mapping[str, Any]) -> VerifyResult | None:
    if not is_sigma_email(claims.get("sub")):
        return VerifyResult.refuse("email", MSG_INVALID_EMAIL)
    # Both optional (internal users must not send them); when sent, well-formed.
    if "account_type" in claims and not _is_text(claims["account_type"]):
        return VerifyResult.refuse("account_type", MSG_INVALID_ACCOUNT_TYPE)
    if "teams" in claims and not _is_name_list(claims["teams"]):
        return VerifyResult.refuse("teams", MSG_INVALID_TEAMS)
    for name in ("first_name", "last_name"):
        if name in claims and not isinstance(claims[name], str):
            return VerifyResult.refuse(name, MSG_INVALID_NAME % name)
    if "user_attributes" in claims and not _is_string_map(claims["user_attributes"]):
        return VerifyResult.refuse("user_attributes", MSG_INVALID_USER_ATTRIBUTES)
    if "eval_connection_id" in claims and not _is_connection_id(claims["eval_connection_id"]):
        return VerifyResult.refuse("eval_connection_id", MSG_INVALID_CONNECTION)
    return None


def _check_oauth(claims: Mapping[str, Any], version: str, secret: str) -> VerifyResult | None:
    """OAuth claims: ver 1.1 only, and every token must decrypt with the secret."""
    for name in ("oauth_token", "connection_oauth_tokens"):
        if name in claims and version != "1.1":
            return VerifyResult.refuse(f"{name}_version", MSG_OAUTH_VERSION % name)
    if "oauth_token" in claims and decrypt_sdk_token(secret, claims["oauth_token"]) is None:
        return VerifyResult.refuse("oauth_token", MSG_INVALID_ENCRYPTED_TOKEN)
    if "connection_oauth_tokens" in claims:
        tokens = claims["connection_oauth_tokens"]
        if not isinstance(tokens, dict) or not all(
            _is_connection_id(key) and decrypt_sdk_token(secret, value) is not None
            for key, value in tokens.items()
        ):
            return VerifyResult.refuse("connection_oauth_tokens", MSG_INVALID_ENCRYPTED_TOKEN)
    return None


def _read_kid(token: str) -> str | VerifyResult:
    """The header's kid, or the refusal of a malformed header, a non-HS256 alg or no kid."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return VerifyResult.refuse("token_malformed", MSG_INVALID_KID)
    # Only HS256: refusing anything else also shuts out "none" and key confusion.
    if header.get("alg") != ALGORITHM:
        return VerifyResult.refuse("alg", MSG_INVALID_ALG)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return VerifyResult.refuse("kid_missing", MSG_INVALID_KID)
    return kid


# Signature only: PyJWT's own claim checks are lenient where Sigma is strict (float
# times, leeway), so every claim is checked by the functions of this module instead.
_SIGNATURE_ONLY = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
}


def _decode(token: str, secret: str) -> dict[str, Any] | VerifyResult:
    """The claims of a token signed with ``secret``, or the refusal of its signature."""
    try:
        return jwt.decode(token, secret, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError:
        return VerifyResult.refuse("signature", MSG_INVALID_SECRET)
    except jwt.PyJWTError:
        return VerifyResult.refuse("token_malformed", MSG_INVALID_KID)


def _check_protocol(claims: Mapping[str, Any], kid: str) -> VerifyResult | None:
    """iss (when sent) is the kid; ver is 1.0 or 1.1; ver 1.1 names Sigma's audience."""
    if "iss" in claims and claims["iss"] != kid:
        return VerifyResult.refuse("iss", MSG_INVALID_ISS)
    version = claims.get("ver", "1.0")
    if version not in VERSIONS:
        return VerifyResult.refuse("ver", MSG_INVALID_VER)
    if version == "1.1" and claims.get("aud") != AUDIENCE:
        return VerifyResult.refuse("aud", MSG_INVALID_AUD)
    return None


@dataclass(frozen=True)
class _Organization:
    """The organization's answers for :func:`verify_token` (None: check skipped)."""

    team_exists: Callable[[str], bool] | None = None
    owner_allows: Callable[[str, str], bool] | None = None
    connection_exists: Callable[[str], bool] | None = None
    is_internal_member: Callable[[str], bool] | None = None

    def check(self, claims: Mapping[str, Any], kid: str) -> VerifyResult | None:
        """Teams and connection exist; the owner may sign ``sub`` in; internal members."""
        teams = claims.get("teams", [])
        if self.team_exists is not None and not all(self.team_exists(t) for t in teams):
            return VerifyResult.refuse("team_unknown", MSG_INVALID_TEAMS)
        connection = claims.get("eval_connection_id")
        exists = self.connection_exists
        if connection and exists is not None and not exists(connection):
            return VerifyResult.refuse("connection_unknown", MSG_INVALID_CONNECTION)
        if self.owner_allows is not None and not self.owner_allows(kid, claims["sub"]):
            # Sigma: "Non-admins can only log in as themselves" -- a permission error.
            return VerifyResult.refuse("owner", MSG_OWNER_ONLY, code=CODE_PERMISSION)
        return self._check_internal_member(claims)

    def _check_internal_member(self, claims: Mapping[str, Any]) -> VerifyResult | None:
        sent = [name for name in INTERNAL_USER_REFUSED_CLAIMS if name in claims]
        internal = self.is_internal_member
        if sent and internal is not None and internal(claims["sub"]):
            # Sigma refuses them for internal users instead of ignoring them.
            return VerifyResult.refuse(
                "internal_user_claims",
                MSG_INTERNAL_USER_CLAIMS,
                code=NO_CODE,
                status=HTTPStatus.FORBIDDEN,
            )
        return None


def _check_jti(
    claims: Mapping[str, Any], claim_jti: Callable[[str], bool] | None
) -> VerifyResult | None:
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        return VerifyResult.refuse("jti", MSG_INVALID_JTI)
    # Every URL is single-use (spec §1.2, §8): the second load must fail.
    if claim_jti is not None and not claim_jti(jti):
        return VerifyResult.refuse("replay", MSG_REPLAY)
    return None


def _check_claims(
    claims: Mapping[str, Any],
    *,
    kid: str,
    secret: str,
    now: int,
    organization: _Organization,
    claim_jti: Callable[[str], bool] | None,
) -> VerifyResult | None:
    """The claims of a correctly signed token, family by family, in Sigma's order."""
    if problem := _check_protocol(claims, kid):
        return problem
    if problem := _check_oauth(claims, claims.get("ver", "1.0"), secret):
        return problem
    if problem := _check_times(claims, now):
        return problem
    if problem := _check_user(claims):
        return problem
    if problem := organization.check(claims, kid):
        return problem
    # Last, so only an otherwise valid token uses up its jti.
    return _check_jti(claims, claim_jti)


def verify_token(
    token: str | None,
    *,
    lookup_secret: Callable[[str], str | None],
    now: int,
    claim_jti: Callable[[str], bool] | None = None,
    team_exists: Callable[[str], bool] | None = None,
    owner_allows: Callable[[str, str], bool] | None = None,
    connection_exists: Callable[[str], bool] | None = None,
    is_internal_member: Callable[[str], bool] | None = None,
) -> VerifyResult:
    """Check an embed token the way Sigma does and return the verdict.

    ``lookup_secret(kid)`` returns the embed secret of an active credential with
    that client ID, or None. ``now`` is integer epoch seconds. ``claim_jti(jti)``
    records the jti and returns False when it was already recorded; it is called
    last, so only an otherwise valid token uses up its jti. Without it, replay is
    not checked. ``team_exists(name)`` says whether the organization has that team
    (Sigma's EINVAL "Invalid external_user_team" otherwise); ``owner_allows(kid,
    sub)`` applies Sigma's owner rule (a non-Admin owner's credentials sign in only
    the owner); ``connection_exists(id)`` says whether an ``eval_connection_id``
    names one of the organization's connections; ``is_internal_member(sub)`` says
    whether ``sub`` is an internal member of the organization (who must not be
    sent the embed-user claims). Each check is skipped when its callable is not
    given.

    Refuses, in this order: a missing or malformed token, an alg other than HS256,
    a missing kid, an unknown or inactive kid, a bad signature, iss != kid, a ver
    other than 1.0/1.1, ver 1.1 without aud "sigmacomputing", OAuth claims without
    ver 1.1 or that do not decrypt with the secret, non-integer or millisecond
    iat/exp, a session over 30 days, an expired token, an iat more than 60 s
    ahead, a bad ``sub``, an account_type or team name that is not a non-empty
    string, names that are not strings, user_attributes that are not string to
    string, an eval_connection_id that is not a connection UUID, a team the
    organization does not have, an unknown connection, a ``sub`` the credential's
    owner may not sign in, an internal member's token carrying account_type,
    teams, user_attributes or names (Sigma's message, no code, HTTP 403), a
    missing jti, and a jti already used. Sigma documents no length limit for
    ``jti`` (the 255 characters are its legacy ``:nonce`` rule), so none applies.
    """
    if not token:
        return VerifyResult.refuse("token_missing", MSG_INVALID_KID)
    kid = _read_kid(token)
    if isinstance(kid, VerifyResult):
        return kid
    secret = lookup_secret(kid)
    if not secret:
        return VerifyResult.refuse("kid_unknown", MSG_INVALID_CLIENT_ID)
    claims = _decode(token, secret)
    if isinstance(claims, VerifyResult):
        return claims
    organization = _Organization(team_exists, owner_allows, connection_exists, is_internal_member)
    if problem := _check_claims(
        claims, kid=kid, secret=secret, now=now, organization=organization, claim_jti=claim_jti
    ):
        return problem
    return VerifyResult.accept(claims)
