"""Sigma-side records, one module per family, all importable from ``embeds.models``.

- ``credentials``: client ID + encrypted, write-only embed secret
- ``registry``: exact Sigma names (teams, account types, user attributes)
- ``embeds``: content, who may view it, interface options and controls
- ``mappings``: host users and groups → Sigma identity
- ``audit``: signing decisions and error reports

State changes that matter (revoke, re-activate, replace a secret, issue a URL) go
through ``embeds.services``; models hold fields, single-row rules and read helpers.
"""

from embeds.models.audit import AccessRecord, EmbedErrorReport, SecurityEvent
from embeds.models.credentials import (
    FINGERPRINT_LENGTH,
    MSG_SECRET_CHARACTERS,
    MSG_SECRET_EMPTY,
    MSG_SECRET_LENGTH,
    MSG_SECRET_WHITESPACE,
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    Credential,
    CredentialQuerySet,
    secret_fingerprint,
    validate_embed_secret,
)
from embeds.models.embeds import Embed, EmbedControl, EmbedQuerySet, default_token_ttl
from embeds.models.mappings import GroupMapping, SigmaProfile, SigmaProfileAttribute
from embeds.models.registry import AccountType, Team, UserAttribute

__all__ = [
    "FINGERPRINT_LENGTH",
    "MSG_SECRET_CHARACTERS",
    "MSG_SECRET_EMPTY",
    "MSG_SECRET_LENGTH",
    "MSG_SECRET_WHITESPACE",
    "SECRET_MAX_LENGTH",
    "SECRET_MIN_LENGTH",
    "AccessRecord",
    "AccountType",
    "Credential",
    "CredentialQuerySet",
    "Embed",
    "EmbedControl",
    "EmbedErrorReport",
    "EmbedQuerySet",
    "GroupMapping",
    "SigmaProfile",
    "SigmaProfileAttribute",
    "SecurityEvent",
    "Team",
    "UserAttribute",
    "default_token_ttl",
    "secret_fingerprint",
    "validate_embed_secret",
]
