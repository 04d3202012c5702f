"""Read side: may this host user view this embed, and as whom?"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from accounts.identity import SigmaIdentity, effective_team_ids, identity_for

from .exceptions import (
    CredentialInactive,
    EmbedDisabled,
    EmbedMisconfigured,
    NoTeam,
    OwnerMismatch,
)
from .models import Embed, EmbedQuerySet


def check_access(*, user, embed: Embed) -> SigmaIdentity:
    """Return the identity to sign for ``user`` on ``embed``, or raise a Refusal.

    Rules, in order (the first that fails is the one reported):
    the user is blocked, has no usable email or no single account type
    (``identity_for``); the user shares no team with the embed (``NoTeam``); the
    embed is switched off (``EmbedDisabled``); its credential is revoked
    (``CredentialInactive``); a non-Admin owner's credential would sign in someone
    other than the owner (``OwnerMismatch``, Sigma's own rule); the stored URL no
    longer validates (``EmbedMisconfigured``). The secret itself is checked when
    signing (``Credential.signing_secret``).
    """
    identity = identity_for(user)
    embed_team_ids = set(embed.teams.values_list("id", flat=True))
    if not identity.team_ids & embed_team_ids:
        raise NoTeam(f"User {user.get_username()!r} shares no team with embed {embed.slug!r}.")
    if not embed.is_enabled:
        raise EmbedDisabled(f"Embed {embed.slug!r} is disabled.")
    credential = embed.credential
    if not credential.is_active:
        raise CredentialInactive(f"Credential {credential.name!r} is revoked.")
    if not credential.owner_is_admin and (
        not credential.owner_email or identity.email.casefold() != credential.owner_email.casefold()
    ):
        raise OwnerMismatch(
            f"Credential {credential.name!r} is owned by a non-Admin and can only "
            "sign in its owner."
        )
    try:
        embed.content  # noqa: B018  (parses and validates the stored URL)
    except ValidationError:
        raise EmbedMisconfigured(f"Embed {embed.slug!r} has an invalid URL.") from None
    return identity


def visible_embeds(user) -> EmbedQuerySet:
    """Enabled embeds that share a team with ``user`` (what the home page lists)."""
    return (
        Embed.objects.enabled()
        .for_teams(effective_team_ids(user))
        .select_related("credential")
        .order_by("title")
    )
