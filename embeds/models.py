"""Sigma-side records: credentials, registries (teams, account types, attribute
names), embeds with their options and controls, and the audit trail.

State changes that matter (revoke, re-activate, replace a secret, issue a URL) go
through ``embeds.services``; models hold fields, single-row rules and read helpers.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from encrypted_model_fields.fields import EncryptedCharField

from .exceptions import CredentialBroken
from .validators import (
    BOOLEAN_OPTIONS,
    MENU_POSITIONS,
    SigmaContent,
    parse_sigma_url,
    validate_control_id,
    validate_control_value,
    validate_language,
    validate_sigma_url,
    validate_theme,
)

SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 512
FINGERPRINT_LENGTH = 12

MSG_SECRET_EMPTY = "The embed secret is empty."  # noqa: S105
MSG_SECRET_WHITESPACE = (  # noqa: S105
    "The embed secret starts or ends with whitespace. Paste it exactly as Sigma "
    "showed it; nothing is trimmed for you."
)
MSG_SECRET_LENGTH = "An embed secret is between %(min)d and %(max)d characters."  # noqa: S105
MSG_SECRET_CHARACTERS = "The embed secret contains control characters."  # noqa: S105


def secret_fingerprint(secret: str) -> str:
    """A short, non-reversible tag of a secret, to tell secrets apart in the admin.

    Twelve hex characters of SHA-256: enough to notice a change or a mix-up, far too
    little to help guess a high-entropy Sigma secret.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def validate_embed_secret(secret: str) -> None:
    """Refuse values that cannot be a Sigma embed secret; never trim."""
    if not secret:
        raise ValidationError(MSG_SECRET_EMPTY, code="secret_empty")
    if secret != secret.strip():
        raise ValidationError(MSG_SECRET_WHITESPACE, code="secret_whitespace")
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        raise ValidationError(
            MSG_SECRET_LENGTH,
            code="secret_length",
            params={"min": SECRET_MIN_LENGTH, "max": SECRET_MAX_LENGTH},
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in secret):
        raise ValidationError(MSG_SECRET_CHARACTERS, code="secret_characters")


class CredentialQuerySet(models.QuerySet):
    def active(self) -> CredentialQuerySet:
        return self.filter(is_active=True)


class Credential(models.Model):
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
    secret = EncryptedCharField(max_length=SECRET_MAX_LENGTH, editable=False)
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
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    revoked_reason = models.TextField(blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    def set_secret(self, secret: str) -> None:
        """Store a new secret (encrypted on save) and its fingerprint."""
        validate_embed_secret(secret)
        self.secret = secret
        self.secret_fingerprint = secret_fingerprint(secret)

    def signing_secret(self) -> str:
        """Return the decrypted secret, or raise :class:`CredentialBroken`.

        django-encrypted-model-fields hands back the stored ciphertext unchanged
        when no configured key decrypts it. The fingerprint recorded when the secret
        was set catches that (and any other mismatch): we never sign with a value
        we cannot prove is the secret that was entered.
        """
        value = self.secret
        if (
            not isinstance(value, str)
            or not value
            or not self.secret_fingerprint
            or secret_fingerprint(value) != self.secret_fingerprint
        ):
            raise CredentialBroken(f"Credential {self.name!r} did not decrypt.")
        return value


class Team(models.Model):
    """A Sigma team, by its exact Sigma name (case and spaces matter)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountType(models.Model):
    """A Sigma account type name (View, Build or a custom type)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserAttribute(models.Model):
    """A user attribute defined in Sigma (Administration > User attributes)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from accounts.validators import validate_attribute_name

        validate_attribute_name(self.name)


def default_token_ttl() -> int:
    """New embeds start with SIGMA_DEFAULT_TOKEN_TTL (read at call time)."""
    return settings.SIGMA_DEFAULT_TOKEN_TTL


class EmbedQuerySet(models.QuerySet):
    def enabled(self) -> EmbedQuerySet:
        return self.filter(is_enabled=True)

    def for_teams(self, team_ids) -> EmbedQuerySet:
        return self.filter(teams__in=team_ids).distinct()


class Embed(models.Model):
    """A piece of Sigma content (workbook, page or element) the host can embed."""

    class MenuPosition(models.TextChoices):
        DEFAULT = "", "Sigma's default (bottom)"
        TOP = "top", "Top"
        BOTTOM = "bottom", "Bottom"
        NONE = "none", "None (no toolbar)"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    url = models.CharField(
        "Sigma content URL",
        max_length=500,
        validators=[validate_sigma_url],
        help_text=(
            "The published workbook's URL, optionally with /page/<id> or "
            "/element/<id>. https, no query string."
        ),
    )
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="embeds")
    teams = models.ManyToManyField(
        Team, related_name="embeds", help_text="Members of these teams may view it."
    )
    is_enabled = models.BooleanField("enabled", default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    token_ttl = models.PositiveIntegerField(
        "token lifetime (seconds)",
        default=default_token_ttl,
        validators=[MinValueValidator(60), MaxValueValidator(2_592_000)],
        help_text="How long a signed URL stays valid: 60 s to 30 days (Sigma's limit).",
    )
    # Interface options (spec §2.2): only the ones Sigma honours under JWT, each
    # typed, so nothing but allowlisted values reaches the URL.
    theme = models.CharField(max_length=64, blank=True, validators=[validate_theme])
    menu_position = models.CharField(
        max_length=10, blank=True, choices=MenuPosition.choices, default=""
    )
    language = models.CharField(
        max_length=50, blank=True, validators=[validate_language], help_text=":lng"
    )
    hide_menu = models.BooleanField(default=False)
    hide_folder_navigation = models.BooleanField(default=False)
    hide_tooltip = models.BooleanField(default=False)
    disable_mobile_view = models.BooleanField(default=False)
    responsive_height = models.BooleanField(
        default=False, help_text="The iframe follows the content's height."
    )
    hide_page_controls = models.BooleanField(default=False)
    hide_reload_button = models.BooleanField(default=False)
    hide_title = models.BooleanField(default=False)
    hide_view_select = models.BooleanField(default=False)
    disable_auto_refresh = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EmbedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [("preview_embed", "Can preview embeds as another user")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("embeds:embed", kwargs={"slug": self.slug})

    @property
    def content(self) -> SigmaContent:
        """The parsed URL; raises ValidationError if it is (no longer) valid."""
        return parse_sigma_url(self.url)

    def interface_options(self) -> list[tuple[str, str]]:
        """The URL parameters for the interface options set on this embed."""
        options: list[tuple[str, str]] = []
        if self.theme:
            options.append((":theme", self.theme))
        if self.menu_position:
            options.append((":menu_position", self.menu_position))
        if self.language:
            options.append((":lng", self.language))
        for name in BOOLEAN_OPTIONS:
            if getattr(self, name):
                options.append((f":{name}", "true"))
        return options

    def clean(self) -> None:
        if self.menu_position not in ("", *MENU_POSITIONS):
            raise ValidationError({"menu_position": "Choose top, bottom or none."})


class EmbedControl(models.Model):
    """A workbook control value for an embed: a default, and/or settable by the page.

    Control values travel in the URL, outside the signature: never use them for
    anything security-relevant (that is what user attributes are for).
    """

    embed = models.ForeignKey(Embed, on_delete=models.CASCADE, related_name="controls")
    control_id = models.CharField("control ID", max_length=100, validators=[validate_control_id])
    default_value = models.CharField(
        max_length=1000, blank=True, validators=[validate_control_value]
    )
    allow_from_query = models.BooleanField(
        "page may set it",
        default=False,
        help_text="Allow the host page's own query string to set this control.",
    )

    class Meta:
        ordering = ["control_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["embed", "control_id"], name="embeds_control_unique_per_embed"
            )
        ]

    def __str__(self) -> str:
        return self.control_id


class AccessRecord(models.Model):
    """One signing decision: a URL issued, or a refusal with its rule.

    Never holds the token or the secret: the ``jti`` is enough to trace a Sigma-side
    incident back to a host user.
    """

    class Outcome(models.TextChoices):
        ISSUED = "issued", "Issued"
        REFUSED = "refused", "Refused"

    class Source(models.TextChoices):
        PAGE = "page", "Embed page"
        REFRESH = "refresh", "Refresh endpoint"
        PREVIEW = "preview", "Admin preview"
        COMMAND = "command", "Command line"

    created_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rule = models.CharField(max_length=50, blank=True, help_text="Refusal code.")
    source = models.CharField(max_length=10, choices=Source.choices)
    is_preview = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="sigma_access_records",
    )
    username = models.CharField(max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asked, when not the user (admin preview).",
    )
    sigma_email = models.CharField(max_length=254, blank=True)
    embed = models.ForeignKey(Embed, null=True, on_delete=models.SET_NULL, related_name="+")
    embed_slug = models.CharField(max_length=100, blank=True)
    credential = models.ForeignKey(
        Credential, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.CharField(max_length=200, blank=True)
    jti = models.CharField("JWT ID (jti)", max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["outcome", "created_at"])]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{self.outcome} {self.embed_slug} for {self.username} at {when}"


class EmbedErrorReport(models.Model):
    """A ``workbook:error`` event the browser reported from inside the iframe."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    embed = models.ForeignKey(Embed, null=True, on_delete=models.SET_NULL, related_name="+")
    embed_slug = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    code = models.CharField(max_length=100)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} on {self.embed_slug}"
