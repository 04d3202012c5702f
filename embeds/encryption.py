"""The embed secret's encryption: its field, fingerprints, key rotation, the start-up probe.

The one place that knows django-encrypted-model-fields (0.6.5), which the app is built
on, and its two quirks:

* on a value no configured key decrypts, the library hands back the stored
  ciphertext as if it were the value. :class:`EncryptedSecretField` (the library's
  ``EncryptedCharField``) raises :class:`SecretUndecryptable` instead, when the
  attribute is *read*: the row still loads, lists, and saves (the stored token is
  written back as it was), so admin pages and checks can name the credential, and
  nothing can sign with ciphertext;
* the library builds its ``MultiFernet`` (``CRYPTER``) once, at import, from
  ``FIELD_ENCRYPTION_KEY``. Everything here reads ``CRYPTER`` at call time, and
  :func:`probe_crypter` (the start-up probe, ``embeds.E102``) proves it still
  encrypts with the first key of the setting.

Rotation: ``FIELD_ENCRYPTION_KEY`` lists keys newest first; :func:`key_status` says
which key a stored token needs, :func:`reencrypt_token` moves one token to the first
key and proves it reads back (``services.credentials.reencrypt_secrets`` runs it over
every credential). Nothing here returns, logs or raises with a secret's value.
"""

from __future__ import annotations

import enum
import hashlib
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast
from django.db.models.query_utils import DeferredAttribute
from django.views.decorators.debug import sensitive_variables
from encrypted_model_fields import fields as library

FINGERPRINT_LENGTH = 12
_PROBE = b"sigma-key-probe"


class SecretUnproven(Exception):
    """A stored secret that must not be signed with. Carries no value, ciphertext or key:
    callers name the credential themselves."""


class SecretUndecryptable(SecretUnproven):
    """No key of FIELD_ENCRYPTION_KEY decrypts the stored secret."""

    def __init__(
        self, message: str = "The stored secret does not decrypt with FIELD_ENCRYPTION_KEY."
    ):
        super().__init__(message)


class SecretMismatch(SecretUnproven):
    """The secret is empty, or not the one its fingerprint was recorded for."""

    def __init__(self, message: str = "The stored secret does not match its fingerprint."):
        super().__init__(message)


class ReencryptionFailed(Exception):
    """A re-encrypted value did not read back with the first key."""


class KeyStatus(enum.Enum):
    CURRENT = "current"  # decrypts with the first (newest) key
    OLD_KEY = "old_key"  # decrypts only with a later key: re-encrypt it
    UNREADABLE = "unreadable"  # no configured key decrypts it


# --- Fingerprints ------------------------------------------------------------------


@sensitive_variables("secret")
def secret_fingerprint(secret: str) -> str:
    """A short, non-reversible tag of a secret, to tell secrets apart in the admin.

    Twelve hex characters of SHA-256: enough to notice a change or a mix-up, far too
    little to help guess a high-entropy Sigma secret.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


@sensitive_variables("secret")
def proven_secret(secret: str, fingerprint: str) -> str:
    """``secret`` if it is the one ``fingerprint`` was recorded for, else :class:`SecretMismatch`.

    Decryption proves the key; this proves the row: a token copied into this row
    from another credential decrypts fine and still must not sign here.
    """
    if not secret or not fingerprint or secret_fingerprint(secret) != fingerprint:
        raise SecretMismatch()
    return secret


# --- The library's crypter, read at call time ----------------------------------------


def crypter() -> MultiFernet:
    """The library's ``CRYPTER`` as it is now (a restart or a test may replace it)."""
    current: MultiFernet = library.CRYPTER  # the library ships no types
    return current


@sensitive_variables("value")
def encrypt_value(value: str) -> str:
    """``value`` encrypted with the first key, as the field stores it."""
    return crypter().encrypt(value.encode("utf-8")).decode("utf-8")


@sensitive_variables("value")
def decrypt_token(token: str) -> str:
    """The value of a stored token, or :class:`SecretUndecryptable`."""
    try:
        return crypter().decrypt(token.encode("utf-8")).decode("utf-8")
    except (InvalidToken, TypeError, ValueError, UnicodeError):
        raise SecretUndecryptable() from None


# --- The field -----------------------------------------------------------------------


class StoredToken:
    """A Fernet token the field writes as it is, never encrypting it again.

    Loading gives one for a value no configured key decrypts (so saving the row
    keeps it); key rotation assigns one it has already re-encrypted and proven.
    Its repr never shows the token.
    """

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<encrypted secret>"


class _SecretAttribute(DeferredAttribute):
    """Reading the secret of a row no key decrypts raises instead of giving ciphertext.

    A data descriptor (it has ``__set__``), so every read goes through ``__get__``:
    Django's plain ``DeferredAttribute`` is consulted only while the value is not yet
    in the instance's ``__dict__``.
    """

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        value = super().__get__(instance, cls)
        if isinstance(value, StoredToken):
            raise SecretUndecryptable()
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


if TYPE_CHECKING:
    # The column as django-stubs sees it: set from a secret or a sealed StoredToken,
    # read as the secret.
    _SecretColumn = models.CharField[str | StoredToken | Combinable, str]
else:
    _SecretColumn = models.CharField  # Django's fields take no subscript at run time


class EncryptedSecretField(library.EncryptedCharField, _SecretColumn):
    """django-encrypted-model-fields' ``EncryptedCharField`` that fails closed.

    Stored exactly as the library stores it (a Fernet token in a text column, so no
    data changes); decrypted when the row is loaded; a value no configured key
    decrypts is kept sealed and raises :class:`SecretUndecryptable` when read.
    """

    # CharField again in the bases changes nothing at run time (the library's field
    # is one already) and tells mypy what it is: the library ships no types.
    descriptor_class = _SecretAttribute

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        try:
            return decrypt_token(value)
        except SecretUndecryptable:
            return StoredToken(value)

    def to_python(self, value: Any) -> Any:
        # Not the library's: it "decrypts" any string it is given, so an assigned
        # token would silently become its value.
        if value is None or isinstance(value, StoredToken):
            return value
        return models.CharField.to_python(self, value)

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        # The raw value: saving a row whose secret is sealed (revoking it, say) must
        # not read the secret.
        return model_instance.__dict__.get(self.attname)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, StoredToken):
            return value.token  # as stored
        return encrypt_value(str(models.CharField.to_python(self, value)))


# --- Keys and rotation ---------------------------------------------------------------


def configured_key_strings() -> list[str]:
    """The non-empty entries of FIELD_ENCRYPTION_KEY, newest first (read at call time)."""
    value = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    if isinstance(value, str | bytes):
        value = [value]
    return [
        k.decode() if isinstance(k, bytes) else k for k in (value or []) if k and str(k).strip()
    ]


def configured_keys() -> list[Fernet]:
    """The Fernet keys of FIELD_ENCRYPTION_KEY, newest first (read at call time)."""
    return [Fernet(key) for key in configured_key_strings()]


def stored_ciphertexts(queryset: models.QuerySet[Any] | None = None) -> dict[int, str]:
    """Credential id -> the secret column exactly as stored (the Fernet token).

    The Cast to a plain text field keeps the field's decryption from running, so we
    see what the database holds. ``queryset`` defaults to every credential (looked
    up through the app registry: the models import this module).
    """
    if queryset is None:
        queryset = apps.get_model("embeds", "Credential")._default_manager.all()
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
def reencrypt_token(token: str, keys: list[Fernet] | None = None) -> str:
    """``token`` re-encrypted with the first key, proven to read back.

    Raises :class:`SecretUndecryptable` when no configured key decrypts it and
    :class:`ReencryptionFailed` when the new token does not decrypt, with the first
    key alone, to the same value.
    """
    keys = configured_keys() if keys is None else keys
    value = decrypt_token(token)
    new = encrypt_value(value)
    try:
        readback = keys[0].decrypt(new.encode("utf-8")).decode("utf-8")
    except InvalidToken:
        readback = None
    if readback != value:
        raise ReencryptionFailed()
    return new


def probe_crypter() -> bool:
    """The start-up probe: does the library's crypter use the first configured key?

    The library builds its crypter once, at import; if the setting changed after
    that (or something replaced it), secrets would be written with a key the setting
    does not list. True when a value it encrypts decrypts with the first key and the
    other way round.
    """
    # Both directions, because each proves a different half: MultiFernet encrypts
    # with its first key only, so the first line fails unless the crypter *writes*
    # with the setting's first key; it decrypts with any of its keys, so the second
    # line fails unless the crypter can still *read* what that key wrote. The probe
    # is a constant, never a secret, so nothing sensitive is in play here.
    try:
        first = configured_keys()[0]
        first.decrypt(crypter().encrypt(_PROBE))
        crypter().decrypt(first.encrypt(_PROBE))
    # InvalidToken: another key. IndexError: no key configured. AttributeError,
    # TypeError, ValueError: CRYPTER replaced by something that is not a Fernet, or
    # a malformed key; each means "not the first key", which E102 reports.
    except (InvalidToken, IndexError, AttributeError, TypeError, ValueError):
        return False
    return True
