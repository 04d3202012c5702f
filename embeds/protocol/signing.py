"""Sigma JWT and embed URL construction (spec §1 and §2). Pure: no ORM, no request.

Inputs are plain values and the clock is a parameter, so every claim can be
checked against the spec in isolation. The host-side rules (who may be signed in)
are enforced before this module is called, in ``embeds.issuing.access``; this module only
refuses values that Sigma itself would reject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import jwt
from django.views.decorators.debug import sensitive_variables

from embeds.observability.redaction import redact_url
from embeds.protocol import constants
from embeds.protocol.constants import ALGORITHM, AUDIENCE, VERSION
from embeds.protocol.constants import MAX_TOKEN_TTL as MAX_TTL
from embeds.protocol.controls import ControlValue
from embeds.protocol.validators import CONNECTION_ID


class SigningError(ValueError):
    """A value Sigma would reject; raised before anything is signed."""


def build_header(client_id: str) -> dict[str, str]:
    """JOSE header: HS256, and kid = the client ID (spec §1.1)."""
    if not client_id:
        raise SigningError("client ID is empty")
    return {"alg": ALGORITHM, "typ": "JWT", "kid": client_id}


def build_claims(
    *,
    client_id: str,
    email: str,
    account_type: str | None = None,
    teams: Sequence[str] = (),
    user_attributes: Mapping[str, str] | None = None,
    now: int,
    ttl: int,
    jti: str,
    internal: bool = False,
    first_name: str = "",
    last_name: str = "",
    eval_connection_id: str = "",
    oauth_token: str | None = None,
    connection_oauth_tokens: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The payload of spec §1.3 (always ``ver`` "1.1" with ``aud``).

    ``now`` and ``ttl`` are integer seconds (Sigma says "Invalid time" to
    milliseconds); ``exp - iat`` is at most 30 days.

    For an embed user (``internal`` false), ``account_type`` is always sent
    (Sigma otherwise grants the highest type) and ``teams`` is a non-empty list;
    ``user_attributes``, ``first_name`` and ``last_name`` are sent when set.

    For an internal user (an existing Sigma member, ``internal`` true) Sigma says
    not to send ``account_type``, ``teams`` or ``user_attributes``, and names
    "affect embed users only": all five are left out, whatever is passed, so the
    rule lives here and nowhere else.

    ``eval_connection_id`` (a connection UUID) is sent when set.
    ``oauth_token`` / ``connection_oauth_tokens`` must already be encrypted with
    the embed secret (``embeds.protocol.oauth``); Sigma takes them with ver "1.1" only,
    which is the version this host always sends.
    """
    _check_identity(client_id, email, internal=internal, account_type=account_type, teams=teams)
    _check_times(now, ttl, jti)
    claims: dict[str, Any] = {
        constants.CLAIM_SUBJECT: email,
        constants.CLAIM_ISSUER: client_id,
        constants.CLAIM_AUDIENCE: AUDIENCE,
        constants.CLAIM_VERSION: VERSION,
        constants.CLAIM_JWT_ID: jti,
        constants.CLAIM_ISSUED_AT: now,
        constants.CLAIM_EXPIRES: now + ttl,
    }
    if not internal:
        claims.update(
            _embed_user_claims(
                account_type,
                teams,
                user_attributes=user_attributes,
                first_name=first_name,
                last_name=last_name,
            )
        )
    claims.update(
        _connection_claims(
            eval_connection_id,
            oauth_token=oauth_token,
            connection_oauth_tokens=connection_oauth_tokens,
        )
    )
    return claims


def _check_identity(
    client_id: str,
    email: str,
    *,
    internal: bool,
    account_type: str | None,
    teams: Sequence[str],
) -> None:
    if not client_id:
        raise SigningError("client ID is empty")
    if not email or email != email.strip():
        raise SigningError("email is empty or padded")
    if not internal:
        if not account_type:
            raise SigningError("account type is empty")
        if not teams or not all(isinstance(t, str) and t for t in teams):
            raise SigningError("teams must be a non-empty list of names")


def _check_times(now: int, ttl: int, jti: str) -> None:
    # bool is an int subclass: True would pass as "1 second".
    if isinstance(now, bool) or not isinstance(now, int) or now <= 0:
        raise SigningError("now must be integer epoch seconds")
    if now > 100_000_000_000:
        raise SigningError("now looks like milliseconds")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= MAX_TTL:
        raise SigningError(f"ttl must be an integer between 1 and {MAX_TTL} seconds")
    if not jti:
        raise SigningError("jti is empty")


def _embed_user_claims(
    account_type: str | None,
    teams: Sequence[str],
    *,
    user_attributes: Mapping[str, str] | None,
    first_name: str,
    last_name: str,
) -> dict[str, Any]:
    """What only an embed user gets: account type, teams, attributes, names."""
    claims: dict[str, Any] = {
        constants.CLAIM_ACCOUNT_TYPE: account_type,
        constants.CLAIM_TEAMS: list(teams),
    }
    if user_attributes:
        for key, value in user_attributes.items():
            if not isinstance(key, str) or not isinstance(value, str) or not key:
                raise SigningError("user attributes map names to strings")
        claims[constants.CLAIM_USER_ATTRIBUTES] = dict(user_attributes)
    for name, value in (
        (constants.CLAIM_FIRST_NAME, first_name),
        (constants.CLAIM_LAST_NAME, last_name),
    ):
        if not isinstance(value, str) or _has_control_characters(value):
            raise SigningError(f"{name} must be text without control characters")
        if value.strip():
            claims[name] = value.strip()
    return claims


def _connection_claims(
    eval_connection_id: str,
    *,
    oauth_token: str | None,
    connection_oauth_tokens: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The connection to evaluate with and the encrypted OAuth tokens, when set."""
    claims: dict[str, Any] = {}
    if eval_connection_id:
        if not CONNECTION_ID.match(eval_connection_id):
            raise SigningError("eval_connection_id is not a Sigma connection ID")
        claims[constants.CLAIM_EVAL_CONNECTION_ID] = eval_connection_id
    if oauth_token is not None:
        if not _is_encrypted_token(oauth_token):
            raise SigningError("oauth_token must be encrypted with the embed secret")
        claims[constants.CLAIM_OAUTH_TOKEN] = oauth_token
    if connection_oauth_tokens:
        for connection_id, token in connection_oauth_tokens.items():
            if not CONNECTION_ID.match(connection_id) or not _is_encrypted_token(token):
                raise SigningError(
                    "connection_oauth_tokens maps connection IDs to encrypted tokens"
                )
        claims[constants.CLAIM_CONNECTION_OAUTH_TOKENS] = dict(connection_oauth_tokens)
    return claims


def _has_control_characters(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


# salt.iv.tag.ciphertext in standard base64 (embeds.protocol.oauth): a plaintext token can
# never be sent by mistake, since none has this exact shape.
_ENCRYPTED_TOKEN = re.compile(
    r"^[A-Za-z0-9+/]{22}==\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/]{22}==\.[A-Za-z0-9+/]*={0,2}\Z"
)


def _is_encrypted_token(value: object) -> bool:
    return isinstance(value, str) and _ENCRYPTED_TOKEN.match(value) is not None


@sensitive_variables("secret")
def sign_token(claims: Mapping[str, Any], *, secret: str, client_id: str) -> str:
    """Sign ``claims`` with HS256 using the secret's UTF-8 bytes as the key."""
    if not isinstance(secret, str) or not secret:
        raise SigningError("secret is empty")
    header = build_header(client_id)
    return jwt.encode(
        dict(claims),
        secret,
        algorithm=ALGORITHM,
        headers={"kid": header["kid"], "typ": header["typ"]},
    )


def encode_control_value(value: str) -> str:
    """Percent-encode a control value, leaving ``,`` and ``:`` literal (spec §2.3)."""
    return quote(value, safe=",:")


@sensitive_variables("token", "query")
def build_embed_url(
    content_url: str,
    *,
    token: str,
    interface_options: Iterable[tuple[str, str]] = (),
    control_values: Iterable[tuple[str, str | ControlValue]] = (),
) -> str:
    """Content URL + ``?:jwt=…&:embed=true`` + options + control values (spec §2.1).

    Parameter names keep their literal leading colon. Option values are
    allowlisted upstream and encoded like control values. Control IDs are fully
    percent-encoded. A :class:`~embeds.protocol.controls.ControlValue` is encoded by its
    type (a text value's commas are encoded, a list's separators are not); a plain
    string keeps ``,`` and ``:`` literal, as before types existed.
    """
    parts = urlsplit(content_url)
    if parts.query or parts.fragment:
        raise SigningError("content URL must not carry a query or fragment")
    if not token or set(token) - set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    ):
        raise SigningError("token is not a compact JWS")
    query = [f"{constants.PARAM_JWT}={token}", f"{constants.PARAM_EMBED}=true"]
    for name, value in interface_options:
        # The name is written unencoded: only ":" + lowercase letters and "_", so
        # no name can add a parameter ("&"), end the query ("#") or repeat :jwt.
        if (
            not name.startswith(":")
            or name in constants.RESERVED_PARAMS
            or not name[1:]
            or set(name[1:]) - set("abcdefghijklmnopqrstuvwxyz_")
        ):
            raise SigningError("interface option names start with ':'")
        query.append(f"{name}={encode_control_value(value)}")
    for control_id, control_value in control_values:
        if not control_id or control_id.startswith(":"):
            raise SigningError("control IDs never start with ':'")
        encoded = (
            control_value.encoded
            if isinstance(control_value, ControlValue)
            else encode_control_value(control_value)
        )
        query.append(f"{quote(control_id, safe='')}={encoded}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(query), ""))


class SignedURL(str):
    """A signed embed URL whose ``repr`` hides the token.

    It renders and serialises as the full URL, but ``repr`` (used by dataclass
    reprs, tracebacks, and Django's template debug logging, which logs the whole
    context on a missing variable) shows :func:`redact_url`.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str(self)))
