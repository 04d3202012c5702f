"""Embed users in Sigma that no active host user maps to any more.

Sigma creates an embed user the first time a token names a new email (its
automatic embed-user management) and never removes it. When the host user behind
it is deactivated, deleted, or given another email, the embed user stays in the
organization. :func:`stale_embed_users` lists those (``listMembers``, ``userKind``
embed); :func:`deactivate_embed_users` deactivates them through Sigma's
``DELETE /v2/members/{memberId}`` ("Deactivate member", which archives the member),
each change in the security event trail.

Sigma's member list is kept in Django's cache for :data:`MEMBERS_CACHE_SECONDS`
per API credential, for the admin page that a reload would otherwise page through
again (:func:`organization_members`); deactivating drops it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q

from embeds.exceptions import Refusal
from embeds.issuing.identity import identity_for
from embeds.models import Credential, SecurityEvent, SigmaProfile
from embeds.remote.client import SigmaAPIClient, SigmaObject
from embeds.remote.usage import _mapped_users
from embeds.services.audit import record_security_event

if TYPE_CHECKING:
    from embeds.services.audit import Actor

logger = logging.getLogger(__name__)

EMBED_KIND = "embed"  # the member schema's userKind of an embed user

REASON_DEACTIVATED = "host user {username!r} is deactivated"
REASON_UNMAPPED = "no active host user maps to this email (deleted, or the email changed)"

MEMBERS_CACHE_SECONDS = 60


def _members_key(client: SigmaAPIClient) -> str:
    # Per credential (and organization): the client ID and the API's address.
    digest = hashlib.sha256(f"{client.base_url}\n{client.client_id}".encode()).hexdigest()
    return f"sigma-members:v1:{digest}"


def organization_members(client: SigmaAPIClient, *, cached: bool = False) -> list[SigmaObject]:
    """Sigma's members (``listMembers``, inactive ones included).

    With ``cached``, a list read in the last :data:`MEMBERS_CACHE_SECONDS` for the
    same credential is used instead of paging through the REST API again; every
    read from Sigma replaces the cached one.
    """
    key = _members_key(client)
    if cached:
        members: list[SigmaObject] | None = cache.get(key)
        if members is not None:
            return members
    members = client.list_members(include_inactive=True)
    cache.set(key, members, MEMBERS_CACHE_SECONDS)
    return members


def forget_members(client: SigmaAPIClient) -> None:
    """Drop the cached member list of ``client``'s credential (Sigma's changed)."""
    cache.delete(_members_key(client))


@dataclass(frozen=True)
class StaleEmbedUser:
    """A Sigma embed user that no active host user signs in as."""

    member_id: str
    email: str
    reason: str
    inactive: bool = False  # Sigma's isInactive

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "memberId": self.member_id,
            "email": self.email,
            "reason": self.reason,
            "isInactive": self.inactive,
        }


def mapped_emails() -> set[str]:
    """The Sigma emails (casefolded) that active mapped host users sign in with.

    The same identities ``sigma_check --remote`` checks: each active user with a
    Sigma mapping, through ``SIGMA_IDENTITY_RESOLVER``.
    """
    emails = set()
    for user in _mapped_users():
        try:
            emails.add(identity_for(user).email.casefold())
        except Refusal:
            # An active user refused for the moment (groups that disagree on the
            # account type, a blocked user, a resolver's refusal) is still a person
            # the host maps: every email they could sign with counts as mapped, so
            # their Sigma account is never offered for deactivation under a false
            # reason (hostile review NEW-1).
            emails.update(_candidate_emails(user))
    return emails


def _candidate_emails(user: Any) -> set[str]:
    """The emails a host user could be signed with: own mapping's, then their own."""
    profile = getattr(user, "sigma_profile", None)
    candidates = {getattr(profile, "sigma_email", "") or "", user.email or ""}
    return {email.strip().casefold() for email in candidates if email.strip()}


def _why(email: str) -> str:
    User = get_user_model()
    inactive = (
        User.objects.filter(is_active=False)
        .filter(
            Q(email__iexact=email)
            | Q(pk__in=SigmaProfile.objects.filter(sigma_email__iexact=email).values("user_id"))
        )
        .first()
    )
    if inactive is not None:
        return REASON_DEACTIVATED.format(username=inactive.get_username())
    return REASON_UNMAPPED


def stale_embed_users(client: SigmaAPIClient, *, cached: bool = False) -> list[StaleEmbedUser]:
    """The organization's embed users that no active host user maps to, by email.

    Archived (deactivated) members are left out; Sigma's ``isInactive`` is reported.
    ``cached``: Sigma's member list may come from :func:`organization_members`'s
    cache; the host's side is worked out every time.
    """
    mapped = mapped_emails()
    stale = []
    for member in organization_members(client, cached=cached):
        email = str(member.get("email") or "")
        if (
            member.get("userKind") != EMBED_KIND
            or member.get("isArchived")
            or not email
            or email.casefold() in mapped
        ):
            continue
        stale.append(
            StaleEmbedUser(
                member_id=str(member.get("memberId") or ""),
                email=email,
                reason=_why(email),
                inactive=bool(member.get("isInactive")),
            )
        )
    return sorted(stale, key=lambda m: m.email.casefold())


def deactivate_embed_users(
    *,
    client: SigmaAPIClient,
    members: Iterable[StaleEmbedUser],
    credential: Credential | None = None,
    actor: Actor = None,
    reason: str = "",
) -> list[StaleEmbedUser]:
    """Deactivate each member in Sigma, one security event per change.

    Stops at the first Sigma error (``SigmaAPIError``), after recording the ones
    already done, so the trail always matches what Sigma did.
    """
    done: list[StaleEmbedUser] = []
    try:
        for member in members:
            client.deactivate_member(member.member_id)
            record_security_event(
                SecurityEvent.Kind.SIGMA_MEMBER_DEACTIVATED,
                actor=actor,
                credential=credential,
                reason=reason or member.reason,
                target=member.email,
                detail=f"Sigma memberId {member.member_id}",
            )
            logger.info("Sigma embed user deactivated member_id=%s", member.member_id)
            done.append(member)
    finally:
        forget_members(client)  # Sigma's list changed, even when one failed
    return done
