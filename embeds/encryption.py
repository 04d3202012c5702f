"""Which FIELD_ENCRYPTION_KEY encrypts each stored secret, and re-encryption.

FIELD_ENCRYPTION_KEY lists Fernet keys newest first: new values are encrypted with
the first, and every key is tried on reading. After a new key is put first,
:func:`reencrypt_secrets` re-encrypts every secret with it, so the old key can then
be removed. Nothing here returns, logs or raises with a secret's value.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Cast
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import CredentialBroken
from embeds.issuing import snapshots
from embeds.models import Credential

logger = logging.getLogger(__name__)


class KeyStatus(enum.Enum):
    CURRENT = "current"  # decrypts with the first (newest) key
    OLD_KEY = "old_key"  # decrypts only with a later key: re-encrypt it
    UNREADABLE = "unreadable"  # no configured key decrypts it


class ReencryptionFailed(Exception):
    """A re-encrypted value did not read back; everything was rolled back."""


@dataclass
class ReencryptResult:
    reencrypted: list[str] = field(default_factory=list)
    already_current: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def configured_keys() -> list[Fernet]:
    """The Fernet keys of FIELD_ENCRYPTION_KEY, newest first (read at call time)."""
    raw = settings.FIELD_ENCRYPTION_KEY
    keys = [raw] if isinstance(raw, str | bytes) else list(raw)
    return [Fernet(key) for key in keys]


def stored_ciphertexts(queryset=None) -> dict[int, str]:
    """Credential id -> the secret column exactly as stored (the Fernet token).

    The Cast to a plain text field keeps the encrypted field's decryption from
    running, so we see what the database holds.
    """
    queryset = Credential.objects.all() if queryset is None else queryset
    rows = queryset.annotate(stored=Cast("secret", output_field=models.TextField())).values_list(
        "pk", "stored"
    )
    return {pk: stored or "" for pk, stored in rows}


def key_status(token: str, keys: list[Fernet] | None = None) -> KeyStatus:
    """Which configured key decrypts ``token``."""
    keys = configured_keys() if keys is None else keys
    for position, key in enumerate(keys):
        try:
            key.decrypt(token.encode("utf-8"))
        except (InvalidToken, ValueError, TypeError):
            continue
        return KeyStatus.CURRENT if position == 0 else KeyStatus.OLD_KEY
    return KeyStatus.UNREADABLE


@sensitive_variables("value", "readback")
def reencrypt_secrets() -> ReencryptResult:
    """Re-encrypt every secret not yet under the first key, and verify each.

    Runs in one transaction with the credential rows locked. A secret is only
    re-encrypted after it decrypted to the value its fingerprint was recorded for
    (``Credential.signing_secret``); afterwards the stored token must decrypt with
    the first key alone to that same value, or :class:`ReencryptionFailed` rolls
    everything back. Unreadable secrets are reported and left untouched. Running
    it twice changes nothing the second time.
    """
    keys = configured_keys()
    primary = keys[0]
    result = ReencryptResult()
    with transaction.atomic():
        credentials = list(Credential.objects.select_for_update().order_by("name"))
        tokens = stored_ciphertexts(Credential.objects.filter(pk__in=[c.pk for c in credentials]))
        for credential in credentials:
            status = key_status(tokens.get(credential.pk, ""), keys)
            if status is KeyStatus.CURRENT:
                result.already_current.append(credential.name)
                continue
            try:
                value = credential.signing_secret()
            except CredentialBroken:
                result.unreadable.append(credential.name)
                continue
            if status is KeyStatus.UNREADABLE:
                # Decrypted through the library but not with our keys: the library's
                # crypter and FIELD_ENCRYPTION_KEY disagree. Do not guess.
                result.unreadable.append(credential.name)
                continue
            # update() writes through the field, i.e. encrypts with the first key,
            # and leaves updated_at alone: the secret itself did not change.
            Credential.objects.filter(pk=credential.pk).update(secret=value)
            # No signal for update(): cached snapshots hold the old ciphertext.
            snapshots.invalidate()
            stored = stored_ciphertexts(Credential.objects.filter(pk=credential.pk))[credential.pk]
            try:
                readback = primary.decrypt(stored.encode("utf-8")).decode("utf-8")
            except InvalidToken:
                readback = None
            if readback != value:
                raise ReencryptionFailed(
                    f"Credential {credential.name!r} did not read back with the first key "
                    "of FIELD_ENCRYPTION_KEY after re-encryption; nothing was changed."
                )
            result.reencrypted.append(credential.name)
    logger.warning(
        "Re-encrypted %d Sigma credential secret(s) with the first key; %d already "
        "current, %d unreadable",
        len(result.reencrypted),
        len(result.already_current),
        len(result.unreadable),
    )
    return result
