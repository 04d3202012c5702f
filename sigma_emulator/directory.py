"""Where the emulator's token checks look the organization up: one small interface.

``verify.verify_token`` takes plain callables (secret by client ID, team exists,
owner rule...); ``OrgDirectory`` supplies them from the emulator's own tables, so
the claim rules (``verify.py``) and the organization's data (``models.py``) change
independently. Tests may pass any object with the same methods.
"""

from __future__ import annotations

import logging
from typing import Protocol

from .models import AccountType, Connection, Credential, Member, Team, UserAttribute

logger = logging.getLogger(__name__)


class Directory(Protocol):
    """What the token checks need to know about the organization."""

    def embed_secret(self, client_id: str) -> str | None: ...

    def team_exists(self, name: str) -> bool: ...

    def owner_allows(self, client_id: str, email: str) -> bool: ...

    def account_type_exists(self, name: str) -> bool: ...

    def attribute_exists(self, name: str) -> bool: ...

    def connection_exists(self, connection_id: str) -> bool: ...

    def is_internal_member(self, email: str) -> bool: ...


class OrgDirectory:
    """The emulated organization, read from ``sigma_emulator``'s tables."""

    def embed_secret(self, client_id: str) -> str | None:
        """The secret of the active credential with the Embedding privilege, or None.

        A revoked credential, or one with only the REST API privilege, has no embed
        secret: Sigma answers "Invalid kid parameter"/"Invalid clientID" for it.
        """
        credential = Credential.objects.filter(
            client_id=client_id, revoked_at__isnull=True, embed_privilege=True
        ).first()
        if credential is None:
            return None
        secret = credential.secret
        if not secret:
            logger.warning("Emulator: credential %r has no secret.", client_id[:64])
            return None
        return secret

    def team_exists(self, name: str) -> bool:
        return Team.objects.filter(name=name, is_archived=False).exists()

    def owner_allows(self, client_id: str, email: str) -> bool:
        """Sigma's owner rule (spec §7): Admin-owned credentials sign anyone in,
        others only their owner."""
        credential = (
            Credential.objects.select_related("owner__account_type")
            .filter(client_id=client_id)
            .first()
        )
        if credential is None:
            return False
        owner = credential.owner
        return owner.is_admin or owner.email.casefold() == email.casefold()

    def account_type_exists(self, name: str) -> bool:
        return AccountType.objects.filter(name=name).exists()

    def attribute_exists(self, name: str) -> bool:
        return UserAttribute.objects.filter(name=name).exists()

    def connection_exists(self, connection_id: str) -> bool:
        return Connection.objects.filter(connection_id=connection_id).exists()

    def is_internal_member(self, email: str) -> bool:
        return Member.objects.filter(
            email=email.casefold(), kind=Member.Kind.INTERNAL, is_archived=False
        ).exists()


directory: Directory = OrgDirectory()
