"""Token checks of the local Sigma emulator, in Sigma's order (spec §1, §8).

Independent of the host's signing code on purpose: it decodes with PyJWT and
checks every claim itself, so a bug in ``embeds.signing`` cannot be mirrored here.
Pure apart from the two callables it is given (secret lookup and jti recording);
the clock is a parameter.

Where Sigma publishes an error message (spec §8) it is used verbatim. Where it does
not (alg, iss, ver, aud, account_type, user_attributes, jti, replay) the message is
the emulator's own, worded like Sigma's. ``rule`` is an emulator-only, stable name
for each check, for tests and logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import jwt

ALGORITHM = "HS256"
AUDIENCE = "sigmacomputing"
VERSIONS = frozenset({"1.0", "1.1"})
MAX_SESSION_LENGTH = 2_592_000  # exp - iat, 30 days (spec §1.2)
MAX_IAT_SKEW = 60  # seconds an iat may lie in the future [inference]
# Epoch seconds pass this in the year 5138; a millisecond value is far above it.
MAX_EPOCH_SECONDS = 100_000_000_000
MAX_JTI_LENGTH = 255  # the SeenToken column

CODE_INVALID = "EINVAL"
CODE_NOT_FOUND = "ENOENT"

MSG_INVALID_KID = "Invalid kid parameter"
MSG_INVALID_CLIENT_ID = "Invalid clientID"
MSG_INVALID_SECRET = "Invalid embed secret"  # noqa: S105 - a message, not a secret
MSG_INVALID_ALG = "Invalid alg parameter: must be HS256"
MSG_INVALID_ISS = "Invalid iss parameter: must equal kid"
MSG_INVALID_VER = "Invalid ver parameter: must be 1.0 or 1.1"
MSG_INVALID_AUD = "Invalid aud parameter: must be sigmacomputing with ver 1.1"
MSG_INVALID_TIME = "Invalid time"
MSG_SESSION_LENGTH = "Session length has been exceeded"
MSG_EXP_PAST = "exp cannot be in the past"
MSG_INVALID_EMAIL = "Invalid email"
MSG_INVALID_ACCOUNT_TYPE = "Invalid account_type: required for embed users"
MSG_INVALID_TEAMS = "Invalid external_user_team"
MSG_INVALID_USER_ATTRIBUTES = "Invalid user_attributes: must map names to strings"
MSG_OWNER_ONLY = "Invalid sub: credentials owned by a non-Admin can sign in only their owner"
MSG_INVALID_JTI = "Invalid jti parameter"
MSG_REPLAY = "This embed URL has already been used (jti replay)"
MSG_INVALID_PATH = "Invalid embed_path"

# RFC 1035 labels (letters, digits, inner hyphens; RFC 1123 lets them start with a
# digit), a TLD of letters, and a local part without whitespace or underscores.
# \Z, not $: "$" would let a trailing newline through.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+)*"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}\Z")

# Spec §3: a workbook, optionally a tag, optionally one page or one element. The
# greedy name splits the workbook segment on its last hyphen.
CONTENT_PATH = re.compile(
    r"^/(?P<org>[a-z0-9][a-z0-9-]*)/workbook/(?P<name>[^/?#]+)"
    r"-(?P<workbook_id>[A-Za-z0-9]{16,32})"
    r"(?:/tag/(?P<tag>[^/?#]+))?"
    r"(?:/page/(?P<page_id>[A-Za-z0-9_-]+)|/element/(?P<element_id>[A-Za-z0-9_-]+))?"
    r"/?\Z"
)


@dataclass(frozen=True)
class Content:
    """The parts of a Sigma content path."""

    org: str
    workbook_name: str
    workbook_id: str
    tag: str | None = None
    page_id: str | None = None
    element_id: str | None = None

    @property
    def kind(self) -> str:
        if self.element_id:
            return "element"
        if self.page_id:
            return "page"
        return "workbook"


def parse_content_path(path: str) -> Content | None:
    """The content a Sigma path names, or None when it is not a content path."""
    match = CONTENT_PATH.match(path)
    if match is None:
        return None
    return Content(
        org=match["org"],
        workbook_name=match["name"],
        workbook_id=match["workbook_id"],
        tag=match["tag"],
        page_id=match["page_id"],
        element_id=match["element_id"],
    )


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

    @classmethod
    def refuse(cls, rule: str, message: str, *, code: str = CODE_INVALID) -> VerifyResult:
        return cls(
            ok=False,
            code=code,
            message=message,
            rule=rule,
            status=HTTPStatus.UNAUTHORIZED,
        )


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


def _check_user(claims: Mapping[str, Any]) -> VerifyResult | None:
    if not is_sigma_email(claims.get("sub")):
        return VerifyResult.refuse("email", MSG_INVALID_EMAIL)
    # Sigma would give a new embed user the highest account type; this host always
    # sends one, so its absence is a host bug worth failing loudly on.
    account_type = claims.get("account_type")
    if not isinstance(account_type, str) or not account_type:
        return VerifyResult.refuse("account_type", MSG_INVALID_ACCOUNT_TYPE)
    teams = claims.get("teams")
    if (
        not isinstance(teams, list)
        or not teams
        or not all(isinstance(team, str) and team for team in teams)
    ):
        return VerifyResult.refuse("teams", MSG_INVALID_TEAMS)
    if "user_attributes" in claims:
        attributes = claims["user_attributes"]
        if not isinstance(attributes, dict) or not all(
            isinstance(key, str) and key and isinstance(value, str)
            for key, value in attributes.items()
        ):
            return VerifyResult.refuse("user_attributes", MSG_INVALID_USER_ATTRIBUTES)
    return None


def verify_token(
    token: str | None,
    *,
    lookup_secret: Callable[[str], str | None],
    now: int,
    claim_jti: Callable[[str], bool] | None = None,
    team_exists: Callable[[str], bool] | None = None,
    owner_allows: Callable[[str, str], bool] | None = None,
) -> VerifyResult:
    """Check an embed token the way Sigma does and return the verdict.

    ``lookup_secret(kid)`` returns the embed secret of an active credential with
    that client ID, or None. ``now`` is integer epoch seconds. ``claim_jti(jti)``
    records the jti and returns False when it was already recorded; it is called
    last, so only an otherwise valid token uses up its jti. Without it, replay is
    not checked. ``team_exists(name)`` says whether the organization has that team
    (Sigma's EINVAL "Invalid external_user_team" otherwise); ``owner_allows(kid,
    sub)`` applies Sigma's owner rule (a non-Admin owner's credentials sign in only
    the owner). Each check is skipped when its callable is not given.

    Refuses, in this order: a missing or malformed token, an alg other than HS256,
    a missing kid, an unknown or inactive kid, a bad signature, iss != kid, a ver
    other than 1.0/1.1, ver 1.1 without aud "sigmacomputing", non-integer or
    millisecond iat/exp, a session over 30 days, an expired token, an iat more
    than 60 s ahead, a bad ``sub``, a missing account_type, teams that are not a
    non-empty list of names, user_attributes that are not string to string, a team
    the organization does not have, a ``sub`` the credential's owner may not sign
    in, a missing jti, and a jti already used.
    """
    if not token:
        return VerifyResult.refuse("token_missing", MSG_INVALID_KID)
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
    secret = lookup_secret(kid)
    if not secret:
        return VerifyResult.refuse("kid_unknown", MSG_INVALID_CLIENT_ID)
    try:
        # Signature only: PyJWT's own claim checks are lenient where Sigma is
        # strict (float times, leeway), so every claim is checked below instead.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
                "require": [],
            },
        )
    except jwt.InvalidSignatureError:
        return VerifyResult.refuse("signature", MSG_INVALID_SECRET)
    except jwt.PyJWTError:
        return VerifyResult.refuse("token_malformed", MSG_INVALID_KID)
    if "iss" in claims and claims["iss"] != kid:
        return VerifyResult.refuse("iss", MSG_INVALID_ISS)
    version = claims.get("ver", "1.0")
    if version not in VERSIONS:
        return VerifyResult.refuse("ver", MSG_INVALID_VER)
    if version == "1.1" and claims.get("aud") != AUDIENCE:
        return VerifyResult.refuse("aud", MSG_INVALID_AUD)
    if problem := _check_times(claims, now):
        return problem
    if problem := _check_user(claims):
        return problem
    if team_exists is not None and not all(team_exists(team) for team in claims["teams"]):
        return VerifyResult.refuse("team_unknown", MSG_INVALID_TEAMS)
    if owner_allows is not None and not owner_allows(kid, claims["sub"]):
        return VerifyResult.refuse("owner", MSG_OWNER_ONLY)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        return VerifyResult.refuse("jti", MSG_INVALID_JTI)
    # Every URL is single-use (spec §1.2, §8): the second load must fail.
    if claim_jti is not None and not claim_jti(jti):
        return VerifyResult.refuse("replay", MSG_REPLAY)
    return VerifyResult.accept(claims)
