"""Credential lifecycle: create, revoke, re-activate, replace the secret; each one audited."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from embeds import encryption
from embeds.issuing import snapshots
from embeds.models import (
    Credential,
    SecurityEvent,
)
from embeds.services.audit import describe_changes, record_security_event

logger = logging.getLogger(__name__)

# --- Credential lifecycle -------------------------------------------------------


@sensitive_variables("secret")
def create_credential(
    *,
    name: str,
    client_id: str,
    secret: str,
    description: str = "",
    owner_email: str = "",
    owner_is_admin: bool = False,
    embed_privilege: bool = True,
    api_privilege: bool = False,
    actor=None,
) -> Credential:
    """Create credentials; validates everything before writing; recorded as an event.

    ``embed_privilege`` and ``api_privilege`` record what Sigma granted the client
    ID: only embed credentials sign URLs, only API credentials ask Sigma's REST API.
    """
    if not (embed_privilege or api_privilege):
        raise ValidationError(
            "Credentials need the embed privilege, the REST API privilege, or both.",
            code="no_privilege",
        )
    credential = Credential(
        name=name,
        client_id=client_id,
        description=description,
        owner_email=owner_email,
        owner_is_admin=owner_is_admin,
        embed_privilege=embed_privilege,
        api_privilege=api_privilege,
        secret_rotated_at=timezone.now(),
    )
    credential.set_secret(secret)
    credential.full_clean()
    with transaction.atomic():
        credential.save()
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_CREATED, credential=credential, actor=actor
        )
        snapshots.invalidate()
    logger.info("Created Sigma credential %s (%s)", credential.name, credential.client_id)
    return credential


def revoke_credential(*, credential: Credential, actor=None, reason: str) -> Credential:
    """Switch credentials off: the next request for any embed using them is refused.

    The credential's ``revoked_*`` fields describe the current revocation; the
    event trail (``SecurityEvent``) keeps every one.
    """
    if not reason or not reason.strip():
        raise ValueError("A reason is required to revoke credentials.")
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.is_active = False
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if getattr(actor, "pk", None) else None
        locked.revoked_reason = reason.strip()
        locked.save(
            update_fields=["is_active", "revoked_at", "revoked_by", "revoked_reason", "updated_at"]
        )
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_REVOKED,
            credential=locked,
            actor=actor,
            reason=locked.revoked_reason,
            now=locked.revoked_at,
        )
        snapshots.invalidate()
    logger.warning(
        "Revoked Sigma credential %s by user=%s", locked.name, getattr(actor, "pk", None)
    )
    return locked


def activate_credential(*, credential: Credential, actor=None, reason: str = "") -> Credential:
    """Re-activate revoked credentials.

    The credential's current-revocation fields are cleared; the revocation and this
    re-activation both stay in the event trail.
    """
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.is_active = True
        locked.revoked_at = None
        locked.revoked_by = None
        locked.revoked_reason = ""
        locked.save(
            update_fields=["is_active", "revoked_at", "revoked_by", "revoked_reason", "updated_at"]
        )
        record_security_event(
            SecurityEvent.Kind.CREDENTIAL_REACTIVATED,
            credential=locked,
            actor=actor,
            reason=reason.strip(),
        )
        snapshots.invalidate()
    logger.warning(
        "Re-activated Sigma credential %s by user=%s", locked.name, getattr(actor, "pk", None)
    )
    return locked


@sensitive_variables("secret")
def replace_credential_secret(*, credential: Credential, secret: str, actor=None) -> Credential:
    """Replace the embed secret; the old value is overwritten, not kept."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        locked.set_secret(secret)
        locked.secret_rotated_at = timezone.now()
        locked.save(
            update_fields=["secret", "secret_fingerprint", "secret_rotated_at", "updated_at"]
        )
        # Names the credential only: never the secret or its fingerprint.
        record_security_event(
            SecurityEvent.Kind.SECRET_REPLACED,
            credential=locked,
            actor=actor,
            now=locked.secret_rotated_at,
        )
        snapshots.invalidate()
    logger.warning(
        "Replaced the secret of Sigma credential %s by user=%s",
        locked.name,
        getattr(actor, "pk", None),
    )
    return locked


# The fields a change form or the config file may edit; the switches (active,
# secret) have their own services above.
EDITABLE_FIELDS = (
    "name",
    "client_id",
    "description",
    "owner_email",
    "owner_is_admin",
    "embed_privilege",
    "api_privilege",
)


def update_credential(
    *, credential: Credential, fields: Iterable[str] = EDITABLE_FIELDS, actor=None
) -> Credential:
    """Save a credential's plain fields (``fields``), never its secret or status.

    A change of the owner's email or of ``owner_is_admin`` decides whom the
    credential may sign in (Sigma's owner rule), so it is recorded as
    ``credential_owner_changed``.
    """
    fields = [name for name in fields if name in EDITABLE_FIELDS]
    with transaction.atomic():
        stored = Credential.objects.select_for_update().get(pk=credential.pk)
        owner = ("owner email", "owner is a Sigma Admin")
        before = dict(zip(owner, (stored.owner_email, stored.owner_is_admin), strict=True))
        after = dict(zip(owner, (credential.owner_email, credential.owner_is_admin), strict=True))
        credential.save(update_fields=[*fields, "updated_at"])
        detail = describe_changes(before, after)
        if detail:
            record_security_event(
                SecurityEvent.Kind.CREDENTIAL_OWNER_CHANGED,
                credential=credential,
                actor=actor,
                detail=detail,
            )
        snapshots.invalidate()
    return credential


def delete_credentials(*, credentials: Iterable[Credential], actor=None) -> None:
    """Delete credentials no embed uses (an embed's credential is PROTECTed)."""
    with transaction.atomic():
        for credential in credentials:
            logger.warning(
                "Deleted Sigma credential %s by user=%s",
                credential.name,
                getattr(actor, "pk", None),
            )
            credential.delete()
        snapshots.invalidate()


# --- Key rotation -----------------------------------------------------------------


@dataclass
class ReencryptResult:
    reencrypted: list[str] = field(default_factory=list)
    already_current: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def reencrypt_secrets() -> ReencryptResult:
    """Re-encrypt every secret not yet under the first key of FIELD_ENCRYPTION_KEY.

    One transaction with the credential rows locked. Each stored token is moved to
    the first key by :func:`embeds.encryption.reencrypt_token`, which proves the new
    token reads back with the first key alone; if one does not,
    :class:`~embeds.encryption.ReencryptionFailed` rolls everything back. Tokens no
    configured key decrypts are reported and left untouched. Running it twice
    changes nothing the second time. The issuing-path cache holds ciphertexts, so it
    is invalidated (``update()`` sends no signal).
    """
    keys = encryption.configured_keys()
    result = ReencryptResult()
    with transaction.atomic():
        credentials = list(Credential.objects.select_for_update().order_by("name"))
        tokens = encryption.stored_ciphertexts(
            Credential.objects.filter(pk__in=[c.pk for c in credentials])
        )
        for credential in credentials:
            token = tokens.get(credential.pk, "")
            status = encryption.key_status(token, keys)
            if status is encryption.KeyStatus.CURRENT:
                result.already_current.append(credential.name)
                continue
            if status is encryption.KeyStatus.UNREADABLE:
                result.unreadable.append(credential.name)
                continue
            try:
                new_token = encryption.reencrypt_token(token, keys)
            except encryption.SecretUndecryptable:
                # The library's crypter and FIELD_ENCRYPTION_KEY disagree (E102): do
                # not guess.
                result.unreadable.append(credential.name)
                continue
            except encryption.ReencryptionFailed:
                raise encryption.ReencryptionFailed(
                    f"Credential {credential.name!r} did not read back with the first key "
                    "of FIELD_ENCRYPTION_KEY after re-encryption; nothing was changed."
                ) from None
            # The proven token as it is (the field does not encrypt a StoredToken
            # again); updated_at stays: the secret itself did not change.
            Credential.objects.filter(pk=credential.pk).update(
                secret=encryption.StoredToken(new_token)
            )
            result.reencrypted.append(credential.name)
        if result.reencrypted:
            snapshots.invalidate()
    logger.warning(
        "Re-encrypted %d Sigma credential secret(s) with the first key; %d already "
        "current, %d unreadable",
        len(result.reencrypted),
        len(result.already_current),
        len(result.unreadable),
    )
    return result
