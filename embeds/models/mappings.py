"""How host users and groups map to Sigma: email, account type, teams, attributes.

These models started life in the host's ``accounts`` app; they keep its tables
(``db_table``) so moving them into this app copied no row (migration
``embeds.0003_mappings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.expressions import Combinable

from embeds.models.registry import AccountType, Team, UserAttribute
from embeds.protocol.validators import (
    validate_attribute_value,
    validate_connection_id,
    validate_sigma_email,
)

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import AnonymousUser, User

#: Mapping a user or group to *internal* Sigma members: their token signs a real Sigma
#: session as the member the email names (Admin rights included), so choosing that
#: email is kept apart from editing users (``auth.change_user``).
ASSIGN_INTERNAL_PERMISSION = "embeds.assign_internal_identity"

MSG_EMAIL_TAKEN = (
    "The Sigma email %(email)s is already the identity of the active user(s) "
    "%(users)s: two host users would act as one Sigma user, with each other's "
    "rights. Give each user their own Sigma email."
)


#: A user is mapped when they have a mapping or belong to a group that has one.
_MAPPED = Q(sigma_profile__isnull=False) | Q(groups__sigma_mapping__isnull=False)


def users_signed_in_as(email: str, *, exclude_user_id: int | None = None) -> QuerySet[User]:
    """Active mapped host users whose Sigma identity is ``email`` (case-insensitive).

    A user's identity is their mapping's Sigma email, else their own email; a user
    is mapped when they have a mapping or belong to a group that has one.
    """
    return _identified_as(email, Q(is_active=True) & _MAPPED, exclude_user_id)


def _identified_as(email: str, which: Q, exclude_user_id: int | None) -> QuerySet[User]:
    """Users among ``which`` whose Sigma identity (mapping's email, else own) is
    ``email``, case-insensitively; none for an empty email."""
    if not email:
        return get_user_model()._default_manager.none()
    own = Q(sigma_profile__sigma_email__iexact=email)
    inherited = Q(email__iexact=email) & (
        Q(sigma_profile__isnull=True) | Q(sigma_profile__sigma_email="")
    )
    users = get_user_model()._default_manager.filter(own | inherited).filter(which).distinct()
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users


def sigma_members_signed_in_as(email: str, *, exclude_user_id: int | None = None) -> QuerySet[User]:
    """Host users the host itself knows to be Sigma identities for ``email``: the
    active mapped users of :func:`users_signed_in_as`, and also *deactivated* users
    mapped as internal members (by their own mapping, or by a group where their own
    says "inherit" or they have none). Deactivating a host account leaves the Sigma
    membership alive, and Sigma signs a member in as themselves whatever the token
    says (spec §1.2, ``sub``), so that email stays taken. And the host's own staff and
    superusers, mapped or not: they administer the host and are the likeliest Sigma
    members (the host admin is usually a Sigma Admin), so their email is theirs.
    """
    by_group = (
        Q(sigma_profile__isnull=True) | Q(sigma_profile__internal=SigmaProfile.Internal.INHERIT)
    ) & Q(groups__sigma_mapping__internal=True)
    internal = Q(sigma_profile__internal=SigmaProfile.Internal.INTERNAL) | by_group
    staff = Q(is_staff=True) | Q(is_superuser=True)
    which = (Q(is_active=True) & (_MAPPED | staff)) | (Q(is_active=False) & internal)
    return _identified_as(email, which, exclude_user_id)


def eval_connection_id_field(help_text: str) -> models.CharField[str | int | Combinable, str]:
    """An optional Sigma connection ID (``eval_connection_id``, connection switching)."""
    return models.CharField(
        "eval_connection_id",
        max_length=36,
        blank=True,
        validators=[validate_connection_id],
        help_text=help_text,
    )


def account_type_field(
    help_text: str = "",
) -> models.ForeignKey[AccountType | Combinable | None, AccountType | None]:
    """The Sigma account type a mapping gives, if any; a type still mapped cannot be
    deleted from the registry (``PROTECT``)."""
    return models.ForeignKey(
        AccountType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=help_text,
    )


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
    account_type = account_type_field("Overrides the account type from the user's groups.")
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    is_blocked = models.BooleanField(
        "embeds blocked",
        default=False,
        help_text="Kill switch: refuse every embed for this user.",
    )
    blocked_reason = models.CharField(max_length=300, blank=True)

    class Internal(models.TextChoices):
        """Whether this person is an existing Sigma member, decided per person."""

        INHERIT = "inherit", "From the user's groups"
        INTERNAL = "internal", "Internal Sigma member"
        EMBED = "embed", "Embed user"

    # Sigma: internal users (existing Sigma members) get no account_type, teams or
    # user_attributes in their token; they keep their own (CLAIMS). Decided here for
    # this person; a group's flag applies only while this says "inherit", so one
    # group can never turn a person declared an embed user into a member.
    internal = models.CharField(
        "Sigma user type",
        max_length=8,
        choices=Internal.choices,
        default=Internal.INHERIT,
        help_text=(
            "Internal: an existing member of the Sigma organization, signed in as "
            "themselves without account type, teams or user attributes in the token. "
            "Embed user: never internal, whatever the groups say. From the user's "
            "groups: internal only if one of their groups is."
        ),
    )
    eval_connection_id = eval_connection_id_field(
        "Sigma connection ID to use instead of the workbook's (overrides the "
        "groups' and the embed's). Not for write-back workbooks."
    )

    class Meta:
        db_table = "accounts_sigmaprofile"
        # Distinct from the group mapping's: the permission names ("Can change …")
        # are built from these, and two alike could not be told apart.
        verbose_name = "Sigma mapping of a user"
        permissions = [
            (
                "assign_internal_identity",
                "Can map users to internal Sigma members (real Sigma sessions)",
            )
        ]

    def __str__(self) -> str:
        return f"Sigma mapping of {self.user}"

    def clean(self) -> None:
        """The Sigma identity is unique among active mapped users.

        Sigma signs in whoever the ``sub`` email names: two host users with one email
        would share one Sigma user, its rights and its saved work. Runs in the admin
        (the user page's inline) and in ``sigma_config import`` (``full_clean``).
        """
        super().clean()
        user = getattr(self, "user", None) if self.user_id else None
        if user is None or not user.is_active:
            return
        email = (self.sigma_email or user.email or "").strip()
        others = users_signed_in_as(email, exclude_user_id=user.pk)
        names = sorted(other.get_username() for other in others[:5])
        if names:
            raise ValidationError(
                {
                    "sigma_email": ValidationError(
                        MSG_EMAIL_TAKEN,
                        code="sigma_email_taken",
                        params={"email": email, "users": ", ".join(names)},
                    )
                }
            )


def has_internal_identity(user: User | None) -> bool:
    """Whether ``user`` is signed in as an internal Sigma member today.

    Their own mapping decides when it says internal or embed; "inherit" (or no
    mapping) makes them internal when one of their groups' mappings is
    (``embeds.issuing.identity.identity_from_mappings``).
    """
    if user is None or user.pk is None:
        return False
    decision = (
        SigmaProfile.objects.filter(user=user).values_list("internal", flat=True).first()
        or SigmaProfile.Internal.INHERIT
    )
    if decision != SigmaProfile.Internal.INHERIT:
        return decision == SigmaProfile.Internal.INTERNAL
    return GroupMapping.objects.filter(group__user=user, internal=True).exists()


def may_assign_internal_identity(actor: User | AnonymousUser | None) -> bool:
    """Whether ``actor`` (a host user) may choose who is signed in as an internal member."""
    return actor is not None and actor.has_perm(ASSIGN_INTERNAL_PERMISSION)


class SigmaProfileAttribute(models.Model):
    """One user attribute (row-level security value) for a user."""

    profile = models.ForeignKey(SigmaProfile, on_delete=models.CASCADE, related_name="attributes")
    attribute = models.ForeignKey(UserAttribute, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=1000, validators=[validate_attribute_value])

    class Meta:
        db_table = "accounts_sigmaprofileattribute"
        # Not "user attribute": that is the registry's name (and its permissions').
        verbose_name = "user attribute value of a user"
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
    account_type = account_type_field()
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    internal = models.BooleanField(
        "internal Sigma users",
        default=False,
        help_text=(
            "Members are existing Sigma members: no account type, teams or user "
            "attributes in their tokens."
        ),
    )
    eval_connection_id = eval_connection_id_field(
        "Sigma connection ID for members (a user's own mapping overrides it, it "
        "overrides the embed's). Not for write-back workbooks."
    )

    class Meta:
        db_table = "accounts_groupmapping"
        verbose_name = "Sigma mapping of a group"

    def __str__(self) -> str:
        return f"Sigma mapping of group {self.group}"
