"""Credential lifecycle: create, revoke, re-activate, replace the secret; each one audited."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from embeds import encryption
from embeds.issuing import snapshots
from embeds.issuing.audit import user_row
from embeds.models import (
    Credential,
    SecurityEvent,
)
from embeds.services.audit import (
    apply_switch,
    delete_rows,
    describe_changes,
    log_change,
    record_security_event,
    required_reason,
)

if TYPE_CHECKING:
    from embeds.services.audit import Actor

logger = logging.getLogger(__name__)

# --- Credential lifecycle -------------------------------------------------------


class CredentialFields(TypedDict, total=False):
    """A credential's plain fields: what a change form or the config file may edit.

    The switches (active, secret) have their own services below.
    """

    name: Required[str]
    client_id: Required[str]
    description: str
    owner_email: str
    owner_is_admin: bool
    # What Sigma granted the client ID: only embed credentials sign URLs, only API
    # credentials ask Sigma's REST API.
    embed_privilege: bool
    api_privilege: bool


@sensitive_variables("secret")
def create_credential(
    *, secret: str, actor: Actor = None, **fields: Unpack[CredentialFields]
) -> Credential:
    """Create credentials; validates everything before writing; recorded as an event.

    Fields left out take the model's defaults (embed privilege only).
    """
    credential = Credential(**fields, secret_rotated_at=timezone.now())
    if not (credential.embed_privilege or credential.api_privilege):
        raise ValidationError(
            "Credentials need the embed privilege, the REST API privilege, or both.",
            code="no_privilege",
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


def revoke_credential(*, credential: Credential, actor: Actor = None, reason: str) -> Credential:
    """Switch credentials off: the next request for any embed using them is refused.

    The credential's ``revoked_*`` fields describe the current revocation; the
    event trail (``SecurityEvent``) keeps every one.
    """
    reason = required_reason(reason, to="revoke credentials")
    return _switch_credential(credential, active=False, actor=actor, reason=reason)


def activate_credential(
    *, credential: Credential, actor: Actor = None, reason: str = ""
) -> Credential:
    """Re-activate revoked credentials.

    The credential's current-revocation fields are cleared; the revocation and this
    re-activation both stay in the event trail.
    """
    return _switch_credential(credential, active=True, actor=actor, reason=reason.strip())


def _switch_credential(
    credential: Credential, *, active: bool, actor: Actor, reason: str
) -> Credential:
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        revoked_at = None if active else timezone.now()
        revoked = {
            "revoked_at": revoked_at,
            "revoked_by": None if active else user_row(actor),
            "revoked_reason": "" if active else reason,
        }
        apply_switch(
            locked,
            SecurityEvent.Kind.CREDENTIAL_REACTIVATED
            if active
            else SecurityEvent.Kind.CREDENTIAL_REVOKED,
            state={"is_active": active, **revoked},
            actor=actor,
            reason=reason,
            now=revoked_at,
            credential=locked,
        )
    log_change(logger, "Re-activated" if active else "Revoked", "credential", locked.name, actor)
    return locked


@sensitive_variables("secret")
def replace_credential_secret(
    *, credential: Credential, secret: str, actor: Actor = None
) -> Credential:
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


EDITABLE_FIELDS: tuple[str, ...] = tuple(CredentialFields.__annotations__)


def update_credential(
    *, credential: Credential, fields: Iterable[str] = EDITABLE_FIELDS, actor: Actor = None
) -> Credential:
    """Save a credential's plain fields (``fields``), never its secret or status.

    A change of the owner's email or of ``owner_is_admin`` decides whom the
    credential may sign in (Sigma's owner rule), so it is recorded as
    ``credential_owner_changed``.
    """
    editable = [name for name in fields if name in EDITABLE_FIELDS]
    with transaction.atomic():
        stored = Credential.objects.select_for_update().get(pk=credential.pk)
        owner = ("owner email", "owner is a Sigma Admin")
        before = dict(zip(owner, (stored.owner_email, stored.owner_is_admin), strict=True))
        after = dict(zip(owner, (credential.owner_email, credential.owner_is_admin), strict=True))
        credential.save(update_fields=[*editable, "updated_at"])
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


def delete_credentials(*, credentials: Iterable[Credential], actor: Actor = None) -> None:
    """Delete credentials no embed uses (an embed's credential is PROTECTed)."""
    delete_rows(credentials, actor=actor, log=logger, named=lambda c: ("credential", c.name))


# --- Key rotation -----------------------------------------------------------------


@dataclass
class ReencryptResult:
    """The credentials' names by what ``reencrypt_secrets`` did with their secret."""

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
