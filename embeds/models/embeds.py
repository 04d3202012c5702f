"""Embeds: a piece of Sigma content, who may view it, its options and controls."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.expressions import Combinable
from django.urls import reverse

from embeds.conf import sigma_settings
from embeds.models.common import Stamped
from embeds.models.credentials import Credential
from embeds.models.mappings import eval_connection_id_field
from embeds.models.registry import Team
from embeds.protocol import constants
from embeds.protocol.controls import (
    CONTROL_TYPE_CHOICES,
    ControlType,
    ControlValue,
    parse_control_value,
)
from embeds.protocol.validators import (
    BOOLEAN_OPTIONS,
    MENU_POSITIONS,
    SigmaContent,
    validate_control_id,
    validate_language,
    validate_language_variant,
    validate_theme,
)
from embeds.validators import parse_sigma_url, validate_sigma_url


def default_token_ttl() -> int:
    """New embeds start with SIGMA_DEFAULT_TOKEN_TTL (read at call time)."""
    ttl: int = sigma_settings.DEFAULT_TOKEN_TTL
    return ttl


def interface_flag(help_text: str = "") -> models.BooleanField[bool | Combinable, bool]:
    """An on/off interface option (BOOLEAN_OPTIONS): off unless set, and when on,
    sent as ``:<name>=true`` (``Embed.interface_options``)."""
    return models.BooleanField(default=False, help_text=help_text)


class EmbedQuerySet(models.QuerySet["Embed"]):
    def enabled(self) -> EmbedQuerySet:
        return self.filter(is_enabled=True)

    def for_teams(self, team_ids: Iterable[int]) -> EmbedQuerySet:
        return self.filter(teams__in=team_ids).distinct()


class Embed(Stamped):
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
        validators=[
            MinValueValidator(constants.MIN_TOKEN_TTL),
            MaxValueValidator(constants.MAX_TOKEN_TTL),
        ],
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
    lng_variant = models.CharField(
        "lng_variant",
        max_length=100,
        blank=True,
        validators=[validate_language_variant],
        help_text=":lng_variant: the exact name of a custom translation of the language "
        "(case-sensitive); needs a language.",
    )
    hide_menu = interface_flag()
    hide_folder_navigation = interface_flag()
    hide_tooltip = interface_flag()
    disable_mobile_view = interface_flag(
        "Outside Sigma's JWT parameter table; Sigma's QuickStart \"Embedding 03\" "
        "lists it for JWT embeds: workbooks don't switch to the mobile layout."
    )
    responsive_height = interface_flag("The iframe follows the content's height.")
    hide_bookmarks = interface_flag("Hides saved views (bookmarks) from the embed menu.")
    hide_explore_toggle = interface_flag("Hides the Explore toggle from the embed menu.")
    hide_element_interactions = interface_flag(
        "Sent as :hide_element_interactions=true (Sigma, January 2026)."
    )
    hide_schedule = interface_flag("Sent as :hide_schedule=true (Sigma, January 2026).")
    hide_send = interface_flag("Sent as :hide_send=true (Sigma, January 2026).")
    hide_page_controls = interface_flag(
        "Outside Sigma's JWT parameter table; Sigma's QuickStart \"REST API Usage "
        '09: Hide Menus & Page Nav" sends it with JWT embeds to hide the page controls.'
    )
    hide_save_as = interface_flag(
        "Hides the Save As option in embedded content (Sigma, April 2026)."
    )
    eval_connection_id = eval_connection_id_field(
        "Sigma connection ID to use instead of the workbook's, for everyone whose "
        "own or group mapping sets none. Connection switching does not work with "
        "write-back features."
    )

    objects = EmbedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [("preview_embed", "Can preview embeds as another user")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("embeds:embed", kwargs={"slug": self.slug})

    @property
    def content(self) -> SigmaContent:
        """The parsed URL; raises ValidationError if it is (no longer) valid."""
        return parse_sigma_url(self.url)

    def interface_options(self) -> list[tuple[str, str]]:
        """The URL parameters for the interface options set on this embed."""
        options: list[tuple[str, str]] = []
        if self.theme:
            options.append((constants.OPTION_THEME, self.theme))
        if self.menu_position:
            options.append((constants.OPTION_MENU_POSITION, self.menu_position))
        if self.language:
            options.append((constants.OPTION_LANGUAGE, self.language))
            if self.lng_variant:
                options.append((constants.OPTION_LANGUAGE_VARIANT, self.lng_variant))
        for name in BOOLEAN_OPTIONS:
            if getattr(self, name):
                options.append((constants.option_param(name), "true"))
        return options

    def clean(self) -> None:
        if self.menu_position not in ("", *MENU_POSITIONS):
            raise ValidationError({"menu_position": "Choose top, bottom or none."})
        if self.lng_variant and not self.language:
            # Sigma's Embed URL parameters: lng_variant "Must be used with lng".
            raise ValidationError(
                {"lng_variant": "A translation variant needs a language: set the language too."}
            )


class EmbedControl(models.Model):
    """A workbook control value for an embed: a default, and/or settable by the page.

    Control values travel in the URL, outside the signature: never use them for
    anything security-relevant (that is what user attributes are for).
    """

    embed = models.ForeignKey(Embed, on_delete=models.CASCADE, related_name="controls")
    control_id = models.CharField("control ID", max_length=100, validators=[validate_control_id])
    default_value = models.TextField(
        blank=True,
        help_text=(
            "Checked against the type (clean). A list takes one value per line; "
            ":null and :empty are Sigma's null value and empty string."
        ),
    )
    allow_from_query = models.BooleanField(
        "page may set it",
        default=False,
        help_text="Allow the host page's own query string to set this control.",
    )
    type = models.CharField(
        max_length=20,
        choices=CONTROL_TYPE_CHOICES,
        default=ControlType.TEXT.value,
        help_text="How the value is written into the URL (a text value's commas are encoded).",
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

    def default(self) -> ControlValue | None:
        """The validated default, or None when there is none."""
        if not self.default_value:
            return None
        return parse_control_value(self.type, self.default_value)

    def clean(self) -> None:
        if self.default_value:
            try:
                parse_control_value(self.type, self.default_value)
            except ValidationError as error:
                raise ValidationError({"default_value": error}) from None
