"""Sigma embed client credentials: the encrypted, write-only secret and its rules."""

from __future__ import annotations

from typing import Self, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.views.decorators.debug import sensitive_variables

from embeds.encryption import (
    FINGERPRINT_LENGTH,
    EncryptedSecretField,
    SecretUnproven,
    proven_secret,
    secret_fingerprint,
)
from embeds.exceptions import CredentialBroken
from embeds.models.common import Stamped, user_reference
from embeds.protocol.validators import has_control_characters

_CredentialT = TypeVar("_CredentialT", bound="Credential")

# HS256 keys below 32 bytes are below RFC 7518 §3.2's minimum; PyJWT warns on
# them (InsecureKeyLengthWarning). Sigma's own secrets are far longer.
SECRET_MIN_LENGTH = 32  # bytes of UTF-8
SECRET_MAX_LENGTH = 512

MSG_SECRET_EMPTY = "The embed secret is empty."  # noqa: S105
MSG_SECRET_WHITESPACE = (  # noqa: S105
    "The embed secret starts or ends with whitespace. Paste it exactly as Sigma "
    "showed it; nothing is trimmed for you."
)
MSG_SECRET_LENGTH = (  # noqa: S105
    "An embed secret is at least %(min)d bytes (HS256's minimum, RFC 7518 section 3.2) "
    "and at most %(max)d characters. Paste the whole secret Sigma showed."
)
MSG_SECRET_CHARACTERS = "The embed secret contains control characters."  # noqa: S105


@sensitive_variables("secret")
def validate_embed_secret(secret: str) -> None:
    """Refuse values that cannot be a Sigma embed secret; never trim."""
    if not secret:
        raise ValidationError(MSG_SECRET_EMPTY, code="secret_empty")
    if secret != secret.strip():
        raise ValidationError(MSG_SECRET_WHITESPACE, code="secret_whitespace")
    if len(secret.encode("utf-8")) < SECRET_MIN_LENGTH or len(secret) > SECRET_MAX_LENGTH:
        raise ValidationError(
            MSG_SECRET_LENGTH,
            code="secret_length",
            params={"min": SECRET_MIN_LENGTH, "max": SECRET_MAX_LENGTH},
        )
    if has_control_characters(secret):
        raise ValidationError(MSG_SECRET_CHARACTERS, code="secret_characters")


class CredentialQuerySet(models.QuerySet[_CredentialT]):
    # Generic in the row type, so rows read through ``annotate()`` keep their
    # annotations (django-stubs types them as Credential@AnnotatedWith[...]).
    def active(self) -> Self:
        return self.filter(is_active=True)


class Credential(Stamped):
    """Sigma embed client credentials (client ID + embed secret).

    The secret is encrypted at rest with FIELD_ENCRYPTION_KEY and is write-only:
    set it with :meth:`set_secret`, read it only through :meth:`signing_secret`,
    which refuses a value that did not decrypt.
    """

    name = models.CharField(max_length=100, unique=True)
    client_id = models.CharField(
        "client ID",
        max_length=200,
        unique=True,
        help_text="The public client ID Sigma showed with the secret. Sent as kid and iss.",
    )
    # Never rendered, listed, searched or logged. See set_secret / signing_secret.
    secret = EncryptedSecretField(max_length=SECRET_MAX_LENGTH, editable=False)
    secret_fingerprint = models.CharField(max_length=FINGERPRINT_LENGTH, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, editable=False)
    description = models.TextField(blank=True)
    owner_email = models.EmailField(
        blank=True,
        help_text="Email of the Sigma user who owns these credentials.",
    )
    owner_is_admin = models.BooleanField(
        "owner is a Sigma Admin",
        default=False,
        help_text=(
            "Sigma rule: credentials owned by an Admin may sign in any user; "
            "credentials owned by anyone else may only sign in the owner's own email."
        ),
    )
    is_active = models.BooleanField("active", default=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = user_reference(editable=False)
    revoked_reason = models.TextField(blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Sigma gives one client ID + secret an "embed" and/or a "REST API" privilege
    # (Developer Access page). Only embed credentials sign URLs; only API
    # credentials are used by embeds.remote.usage to ask Sigma about its organization.
    embed_privilege = models.BooleanField(
        "embed privilege",
        default=True,
        help_text="Sigma granted these credentials the Embedding privilege: they sign embed URLs.",
    )
    api_privilege = models.BooleanField(
        "REST API privilege",
        default=False,
        help_text=(
            "Sigma granted these credentials the REST API privilege: the admin's "
            "'Check against Sigma', registry sync and content pickers use them."
        ),
    )

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("revoke_credential", "Can revoke and re-activate embed credentials"),
            ("rotate_credential", "Can replace an embed secret"),
        ]

    def __str__(self) -> str:
        # Never the secret: the admin log stores str(obj).
        return f"{self.name} ({self.client_id})"

    def __repr__(self) -> str:
        return f"<Credential {self.pk}: {self.name} ({self.client_id})>"

    @sensitive_variables("secret")
    def set_secret(self, secret: str) -> None:
        """Store a new secret (encrypted on save) and its fingerprint."""
        validate_embed_secret(secret)
        self.secret = secret
        self.secret_fingerprint = secret_fingerprint(secret)

    @sensitive_variables("value")
    def signing_secret(self) -> str:
        """Return the decrypted secret, or raise :class:`CredentialBroken`.

        The field raises when no configured key decrypts the stored value, and
        ``proven_secret`` when the value is empty or not the one the fingerprint was
        recorded for (``embeds.encryption``): nothing unproven is signed with.
        """
        try:
            value = proven_secret(self.secret, self.secret_fingerprint)
        except SecretUnproven:
            raise CredentialBroken(f"Credential {self.name!r} did not decrypt.") from None
        return value
