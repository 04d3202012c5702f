"""How host users and groups map to Sigma: email, account type, teams, attributes.

These models started life in the host's ``accounts`` app; they keep its tables
(``db_table``) so moving them into this app copied no row (migration
``embeds.0003_mappings``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from ..validators import validate_attribute_value, validate_sigma_email
from .registry import AccountType, Team, UserAttribute


class SigmaProfile(models.Model):
    """Per host user: what Sigma is told about them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sigma_profile"
    )
    sigma_email = models.CharField(
        "Sigma email",
        max_length=254,
        blank=True,
        validators=[validate_sigma_email],
        help_text="Sent as sub. Leave blank to use the user's own email.",
    )
    account_type = models.ForeignKey(
        AccountType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Overrides the account type from the user's groups.",
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    is_blocked = models.BooleanField(
        "embeds blocked",
        default=False,
        help_text="Kill switch: refuse every embed for this user.",
    )
    blocked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "accounts_sigmaprofile"
        verbose_name = "Sigma mapping"

    def __str__(self) -> str:
        return f"Sigma mapping of {self.user}"


class SigmaProfileAttribute(models.Model):
    """One user attribute (row-level security value) for a user."""

    profile = models.ForeignKey(SigmaProfile, on_delete=models.CASCADE, related_name="attributes")
    attribute = models.ForeignKey(UserAttribute, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=1000, validators=[validate_attribute_value])

    class Meta:
        db_table = "accounts_sigmaprofileattribute"
        verbose_name = "user attribute"
        ordering = ["attribute__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "attribute"], name="accounts_attribute_once_per_user"
            )
        ]

    def __str__(self) -> str:
        # Attribute name only: the admin log stores str() of inline rows.
        return str(self.attribute)


class GroupMapping(models.Model):
    """Per host group: the teams and account type its members get."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="sigma_mapping")
    account_type = models.ForeignKey(
        AccountType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="+")

    class Meta:
        db_table = "accounts_groupmapping"
        verbose_name = "Sigma mapping"

    def __str__(self) -> str:
        return f"Sigma mapping of group {self.group}"
