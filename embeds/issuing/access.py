"""Read side: may this host user view this embed, and as whom?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from embeds.conf import sigma_settings
from embeds.exceptions import (
    AmbiguousAccountType,
    CredentialInactive,
    EmbedDisabled,
    EmbedMisconfigured,
    IdentityConflict,
    NoAccountType,
    NoEmail,
    NoTeam,
    OwnerMismatch,
    PreviewOfMember,
    RateLimited,
    Refusal,
    UserBlocked,
    UserInactive,
)
from embeds.issuing.identity import SigmaIdentity, identity_for
from embeds.issuing.snapshots import EmbedSnapshot, identity_of
from embeds.models import AccessRecord, Embed, EmbedQuerySet

if TYPE_CHECKING:
    from embeds.issuing.audit import AnyUser


def check_access(*, user: AnyUser, embed: EmbedSnapshot) -> SigmaIdentity:
    """Return the identity to sign for ``user`` on ``embed``, or raise a Refusal.

    Rules, in order (the first that fails is the one reported): the user is
    deactivated (``UserInactive``); the user is blocked, has no usable email or no
    single account type (``identity_for``); the user shares no team with the embed
    (``NoTeam``); the embed is switched off (``EmbedDisabled``); its credential is
    revoked (``CredentialInactive``); a non-Admin owner's credential would sign in
    someone other than the owner (``OwnerMismatch``, Sigma's own rule); the stored
    URL no longer validates (``EmbedMisconfigured``). The secret itself is checked
    when signing (``snapshots.signing_secret``).

    Reads the snapshot and the identity through the cache of ``embeds.issuing.snapshots``
    (``embed.generation`` None reads afresh); the audit insert re-checks the
    credential and the embed in the database (``services.record_issue``).
    """
    identity = check_visible(user=user, embed=embed)
    if not embed.embed.is_enabled:
        raise EmbedDisabled(f"Embed {embed.slug!r} is disabled.")
    credential = embed.credential
    if not credential.is_active:
        raise CredentialInactive(f"Credential {credential.name!r} is revoked.")
    if not credential.embed_privilege:
        # REST-API-only credentials: Sigma would refuse the token, so never sign one.
        raise EmbedMisconfigured(
            f"Credential {credential.name!r} does not have the embed privilege."
        )
    if not credential.owner_is_admin and (
        not credential.owner_email or identity.email.casefold() != credential.owner_email.casefold()
    ):
        raise OwnerMismatch(
            f"Credential {credential.name!r} is owned by a non-Admin and can only "
            "sign in its owner."
        )
    try:
        embed.embed.content  # noqa: B018  (parses and validates the stored URL)
    except ValidationError as error:
        # The validator's messages name the origin and the allowed list, never a secret.
        reason = " ".join(error.messages)
        raise EmbedMisconfigured(f"Embed {embed.slug!r} has an invalid URL: {reason}") from None
    return identity


def check_previewable(*, identity: SigmaIdentity, embed: EmbedSnapshot) -> None:
    """Refuse a preview that would sign someone else in as a real Sigma member.

    Sigma signs in an existing member with their own account and rights whatever
    else the token says, and a preview's URL is opened by the previewer's browser:
    previewing an internal identity, or the credential owner's email (a member by
    definition), would give the previewer that member's Sigma session
    (``PreviewOfMember``). Embed users, whose Sigma rights are exactly what the
    token grants, can be previewed. The other emails the host knows to be members
    (every stored credential's owner, revoked ones included, and deactivated
    internal users') are refused before this, on every path, by
    ``identity.check_identity_conflicts`` (``IdentityConflict``).
    """
    owner = embed.credential.owner_email
    if identity.internal or (owner and identity.email.casefold() == owner.casefold()):
        raise PreviewOfMember(
            f"Sigma email {identity.email!r} is an existing Sigma member's "
            f"({'internal mapping' if identity.internal else 'credential owner'})."
        )


def check_visible(*, user: AnyUser, embed: EmbedSnapshot | None) -> SigmaIdentity:
    """The user-level rules and the team rule: what decides whether ``user`` may
    even learn that ``embed`` exists. Returns the identity or raises a Refusal.

    ``UserInactive`` first, then ``identity_for``'s refusals, then ``NoTeam`` for an
    embed that shares no team with the user *or does not exist* (``embed`` None):
    "no such embed" and "not yours" are one answer, so probing slugs tells nothing.
    """
    # Security: a deactivated account signs nobody in, whoever asks (the page,
    # refresh, an admin's preview, sigma_embed_url): Django keeps is_active=False
    # users from signing in, but a preview or a command acts on their behalf.
    if not getattr(user, "is_active", False):
        raise UserInactive(f"User {user.get_username()!r} is deactivated.")
    identity = identity_of(user, generation=embed.generation if embed is not None else None)
    if embed is None:
        raise NoTeam(f"User {user.get_username()!r} asked for an embed that does not exist.")
    if not identity.team_ids & embed.team_ids:
        raise NoTeam(f"User {user.get_username()!r} shares no team with embed {embed.slug!r}.")
    return identity


# Refusals decided before it is known that the user may see the embed: their page
# never names it (no title), whether it exists or not.
HIDES_EMBED: tuple[type[Refusal], ...] = (
    RateLimited,
    UserInactive,
    UserBlocked,
    NoEmail,
    NoAccountType,
    AmbiguousAccountType,
    IdentityConflict,
    NoTeam,
)


def token_lifetime(*, embed: Embed, source: str, ttl: int | None = None) -> int:
    """Seconds the token for this request may live.

    ``ttl`` (a command's ``--ttl``) or else the embed's own lifetime; a preview is
    capped at ``SIGMA_PREVIEW_TOKEN_TTL`` (default 300 s), because the admin gets a
    token for someone else that works outside the preview page too.
    """
    lifetime = embed.token_ttl if ttl is None else ttl
    if source == AccessRecord.Source.PREVIEW:
        lifetime = min(lifetime, int(sigma_settings.PREVIEW_TOKEN_TTL))
    return lifetime


def visible_embeds(user: AnyUser) -> EmbedQuerySet:
    """Enabled embeds that share a team with ``user`` (what the home page lists).

    The teams come from ``identity_for`` (``SIGMA_IDENTITY_RESOLVER``); a user the
    resolver refuses (blocked, no email, no account type) sees none.
    """
    try:
        team_ids = identity_for(user).team_ids
    except Refusal:
        return Embed.objects.none()
    return embeds_for_teams(team_ids)


def embeds_for_teams(team_ids: Iterable[int]) -> EmbedQuerySet:
    """Enabled embeds shared with any of ``team_ids``, by title."""
    return (
        Embed.objects.enabled().for_teams(team_ids).select_related("credential").order_by("title")
    )


def listed_embeds_for_teams(team_ids: Iterable[int]) -> EmbedQuerySet:
    """Every embed shared with any of ``team_ids``, by title, switched off or not.

    The home page lists them all and marks those that cannot open now (embed
    switched off, credential revoked) as unavailable, rather than offering a link
    that ends on a refusal.
    """
    return Embed.objects.for_teams(team_ids).select_related("credential").order_by("title")
