"""The host's OAuth token provider: ``SIGMA_OAUTH_TOKEN_PROVIDER``, asked while issuing.

The provider's plaintext tokens are encrypted with the embed secret by the pure
``embeds.protocol.oauth``; only the encrypted claims leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import OAuthUnavailable
from embeds.protocol.oauth import oauth_claims
from embeds.protocol.validators import CONNECTION_ID

if TYPE_CHECKING:
    from embeds.issuing.audit import AnyUser
    from embeds.models import Embed

    # SIGMA_OAUTH_TOKEN_PROVIDER: (user, embed) -> None, a token or {connection: token}.
    # The answer is checked, not trusted: hence ``object``.
    OAuthProvider = Callable[[AnyUser, Embed], object]

logger = logging.getLogger(__name__)


class OAuthProviderError(ValueError):
    """SIGMA_OAUTH_TOKEN_PROVIDER is missing, failed or returned a bad value."""


MSG_PROVIDER_RESULT = (
    "SIGMA_OAUTH_TOKEN_PROVIDER must return None, a token string, or a dict of "
    "connection ID to token string."
)


def load_provider() -> OAuthProvider | None:
    """The callable named by ``SIGMA_OAUTH_TOKEN_PROVIDER`` (read at call time)."""
    path = getattr(settings, "SIGMA_OAUTH_TOKEN_PROVIDER", None)
    if not path:
        return None
    try:
        provider: OAuthProvider = import_string(path)
    except ImportError:
        raise OAuthProviderError("SIGMA_OAUTH_TOKEN_PROVIDER cannot be imported.") from None
    return provider


@sensitive_variables("result")
def provided_tokens(user: AnyUser, embed: Embed) -> str | dict[str, str] | None:
    """Ask the provider for ``user`` on ``embed`` and check the shape of its answer.

    A ``str`` is an organization-level token (``oauth_token``); a dict maps
    connection IDs to tokens (``connection_oauth_tokens``). Empty answers mean
    "no token". Refuses (:class:`OAuthProviderError`) any other shape, an empty
    token, or a key that is not a Sigma connection ID. Never reads the request.
    """
    provider = load_provider()
    if provider is None:
        return None
    result = provider(user, embed)
    if result is None or result == "" or result == {}:
        return None
    if isinstance(result, str):
        return result
    if isinstance(result, Mapping) and all(
        isinstance(k, str) and CONNECTION_ID.match(k) and isinstance(v, str) and v
        for k, v in result.items()
    ):
        return dict(result)
    raise OAuthProviderError(MSG_PROVIDER_RESULT)


@sensitive_variables("tokens", "secret")
def oauth_claims_for(user: AnyUser, embed: Embed, *, secret: str) -> dict[str, Any]:
    """The encrypted OAuth claims for ``user`` on ``embed``, from the provider.

    Raises :class:`~embeds.exceptions.OAuthUnavailable` when the provider cannot be
    imported, fails, answers with a bad shape, or answers with a token that cannot
    be encrypted (one that is not encodable text, such as a lone surrogate). Only
    the exception's class is logged: a provider's message may carry the token.
    """
    try:
        tokens = provided_tokens(user, embed)
    except Exception as error:
        raise _unavailable("the OAuth token provider failed", error, user, embed) from None
    try:
        return oauth_claims(tokens, secret=secret)
    except Exception as error:
        # Fail closed and never as a 500: the error's frames hold the plaintext
        # token, and a report of them (debug page, error e-mail) would carry it.
        raise _unavailable(
            "the OAuth token provider's answer could not be encrypted", error, user, embed
        ) from None


def _unavailable(what: str, error: Exception, user: AnyUser, embed: Embed) -> OAuthUnavailable:
    """Log ``what`` happened with the exception's class only, and the refusal to raise."""
    logger.warning(
        "OAuth: %s for user=%s embed=%s: %s",
        what,
        getattr(user, "pk", None),
        getattr(embed, "slug", "-"),
        type(error).__name__,
    )
    return OAuthUnavailable(f"{what[0].upper()}{what[1:]} ({type(error).__name__}).")
