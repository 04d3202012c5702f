"""Every write to the emulated organization, one function each.

Called by the Developer Access page, the REST API, the embed view (automatic embed
users) and the seed command alike. None of them returns or logs a secret except
``create_credential``, whose caller shows it once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import AccountType, ApiFault, ApiToken, Credential, Member, Team

logger = logging.getLogger(__name__)

DEFAULT_API_TOKEN_TTL = 3600  # Sigma's API tokens last an hour


def new_secret() -> str:
    """A client secret as Sigma generates them: 128 hex characters."""
    return secrets.token_hex(64)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_credential(
    *,
    name: str,
    owner: Member,
    embed_privilege: bool = True,
    api_privilege: bool = False,
    description: str = "",
) -> tuple[Credential, str]:
    """Create client credentials; return them with the secret, to be shown once.

    Refuses (ValueError) credentials with neither privilege, as Sigma's form does.
    """
    if not (embed_privilege or api_privilege):
        raise ValueError("Choose at least one privilege: Embedding or REST API.")
    secret = new_secret()
    credential = Credential.objects.create(
        name=name,
        description=description,
        owner=owner,
        embed_privilege=embed_privilege,
        api_privilege=api_privilege,
        secret=secret,
    )
    logger.info("Emulator: credentials %s created.", credential.client_id)
    return credential, secret


@transaction.atomic
def revoke_credential(*, credential: Credential) -> Credential:
    """Revoke: every token signed with it, and every API token it got, stops working."""
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        credential.api_tokens.all().delete()
        logger.info("Emulator: credentials %s revoked.", credential.client_id)
    return credential


def ensure_member(
    *,
    email: str,
    account_type: str,
    first_name: str = "",
    last_name: str = "",
    kind: str = Member.Kind.INTERNAL,
) -> Member:
    """The member with this email, created or updated to the given account type."""
    account, _ = AccountType.objects.get_or_create(
        name=account_type, defaults={"is_admin": account_type == "Admin"}
    )
    member, _ = Member.objects.update_or_create(
        email=email.casefold(),
        defaults={
            "account_type": account,
            "first_name": first_name,
            "last_name": last_name,
            "kind": kind,
        },
    )
    return member


@transaction.atomic
def register_credential(
    *,
    client_id: str,
    secret: str,
    name: str,
    owner_email: str,
    owner_is_admin: bool | None = None,
    embed_privilege: bool = True,
    api_privilege: bool = True,
) -> Credential:
    """Store credentials whose secret was chosen elsewhere (seeding and tests).

    Sigma never takes a secret from outside; this exists so ``seed_demo`` can keep
    its documented SIGMA_DEMO_CLIENT_ID/SIGMA_DEMO_SECRET, and so tests can sign with
    a known secret. An existing client ID is re-activated with the given secret.
    The owner is the member with ``owner_email`` (created as an Admin if missing);
    ``owner_is_admin`` True/False moves them to Admin/View, None leaves them as is.
    """
    owner = Member.objects.filter(email=owner_email.casefold()).first()
    if owner is None:
        owner = ensure_member(
            email=owner_email, account_type="View" if owner_is_admin is False else "Admin"
        )
    elif owner_is_admin is not None and owner.is_admin != owner_is_admin:
        owner.account_type, _ = AccountType.objects.get_or_create(
            name="Admin" if owner_is_admin else "View",
            defaults={"is_admin": owner_is_admin},
        )
        owner.save(update_fields=["account_type", "updated_at"])
    credential, _ = Credential.objects.update_or_create(
        client_id=client_id,
        defaults={
            "name": name,
            "owner": owner,
            "secret": secret,
            "embed_privilege": embed_privilege,
            "api_privilege": api_privilege,
            "revoked_at": None,
        },
    )
    return credential


@transaction.atomic
def provision_embed_user(claims: Mapping[str, Any]) -> Member | None:
    """Sigma's automatic embed-user management (spec §7) on an accepted token.

    An internal member with the token's email is signed in as themselves and left
    alone. Otherwise the embed user is created, or updated to the token's account
    type, names and teams (a missing ``account_type`` keeps the user's type, or
    gives a new one the highest). Returns None when the account type is unknown.
    """
    email = str(claims["sub"]).casefold()
    member = Member.objects.select_related("account_type").filter(email=email).first()
    if member is not None and member.kind == Member.Kind.INTERNAL:
        return member
    name = claims.get("account_type")
    if name:
        account_type = AccountType.objects.filter(name=name).first()
    elif member is not None:
        account_type = member.account_type
    else:
        # Omitted: Sigma gives a new embed user the highest account type (spec §1.2).
        account_type = AccountType.objects.order_by("-is_admin", "pk").first()
    if account_type is None:
        return None
    member, _ = Member.objects.update_or_create(
        email=email,
        defaults={
            "account_type": account_type,
            "kind": Member.Kind.EMBED,
            "first_name": str(claims.get("first_name") or ""),
            "last_name": str(claims.get("last_name") or ""),
        },
    )
    names: Iterable[str] = claims.get("teams") or []
    member.teams.set(Team.objects.filter(name__in=list(names)))
    return member


def issue_api_token(
    *, client_id: str, client_secret: str, ttl: int = DEFAULT_API_TOKEN_TTL
) -> tuple[str, int] | None:
    """A bearer token for credentials with the REST API privilege, or None.

    The secret is compared in constant time; revoked or embed-only credentials get
    nothing. Only the token's hash is stored.
    """
    credential = Credential.objects.filter(
        client_id=client_id, revoked_at__isnull=True, api_privilege=True
    ).first()
    if credential is None or not secrets.compare_digest(
        credential.secret.encode(), client_secret.encode()
    ):
        return None
    token = secrets.token_urlsafe(48)
    ApiToken.objects.create(
        token_hash=hash_api_token(token),
        credential=credential,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return token, ttl


def api_token_credential(token: str, *, now: datetime | None = None) -> Credential | None:
    """The credentials a bearer token belongs to, while it is unexpired and not revoked."""
    found = (
        ApiToken.objects.select_related("credential")
        .filter(
            token_hash=hash_api_token(token),
            expires_at__gt=now or timezone.now(),
            credential__revoked_at__isnull=True,
        )
        .first()
    )
    return found.credential if found else None


def expire_api_tokens() -> int:
    """Test knob: every bearer token expires now (the next call gets 401)."""
    return ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))


def inject_api_fault(
    *, status: int = 429, times: int = 1, retry_after: int | None = None
) -> ApiFault:
    """Test knob: the next ``times`` API requests answer ``status``."""
    return ApiFault.objects.create(status=status, remaining=times, retry_after=retry_after)


@transaction.atomic
def take_api_fault() -> ApiFault | None:
    """The pending fault, used up by one; None when the API should answer normally."""
    fault = ApiFault.objects.select_for_update().filter(remaining__gt=0).order_by("pk").first()
    if fault is None:
        return None
    ApiFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
    return fault


@transaction.atomic
def rename_team(*, team: Team, name: str) -> Team:
    """Rename a team; tokens naming the old name are refused from now on (EINVAL)."""
    old = team.name
    team.name = name
    team.save(update_fields=["name", "updated_at"])
    logger.info("Emulator: team %r renamed to %r.", old[:200], name[:200])
    return team


def deactivate_member(*, member: Member) -> Member:
    """Deactivate a member as Sigma's ``DELETE /v2/members/{memberId}`` does: the
    member is marked archived (Sigma's "Deactivate member" reference)."""
    if not member.is_archived:
        member.is_archived = True
        member.save(update_fields=["is_archived", "updated_at"])
        logger.info("Emulator: member %s deactivated.", member.member_id)
    return member
