"""The Sigma identity of a host user: who the JWT says they are.

:func:`identity_for` is the one entry point: it calls the resolver named by
``SIGMA_IDENTITY_RESOLVER`` (``embeds.conf``). The default,
:func:`identity_from_mappings`, works for a plain Django user through this app's
mappings (the user's own ``SigmaProfile`` plus their groups' ``GroupMapping``). A
site with its own rules points the setting at a callable ``(user) -> SigmaIdentity``
that raises the refusals of ``embeds.exceptions`` when it cannot answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from embeds.conf import sigma_settings
from embeds.exceptions import (
    AmbiguousAccountType,
    AmbiguousConnection,
    IdentityConflict,
    NoAccountType,
    NoEmail,
    UserBlocked,
)
from embeds.models import Credential, GroupMapping, SigmaProfile, Team
from embeds.models.mappings import sigma_members_signed_in_as
from embeds.protocol.validators import sigma_email_problem

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

    from embeds.issuing.audit import AnyUser


@dataclass(frozen=True)
class SigmaIdentity:
    """What the JWT says about a user. Same values on every embed (spec §1.2).

    ``internal`` marks an existing Sigma member: their token carries no
    ``account_type``, ``teams``, ``user_attributes`` or names (``account_type`` may
    then be empty); ``teams``/``team_ids`` still decide which embeds they may open.
    ``eval_connection_id`` is the user's or their groups' connection, if any (the
    embed's own applies when it is empty).
    """

    email: str
    account_type: str
    teams: tuple[str, ...]
    team_ids: frozenset[int]
    user_attributes: tuple[tuple[str, str], ...]
    internal: bool = False
    # Internal only because a group says so (no own mapping says it): not enough to
    # be trusted as the member a credential owner's email names (check_identity_conflicts).
    internal_by_group: bool = False
    first_name: str = ""
    last_name: str = ""
    eval_connection_id: str = ""

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.user_attributes)


def effective_teams(user: User) -> QuerySet[Team]:
    """Teams of the user's own mapping plus every group mapping's, as one queryset."""
    own = SigmaProfile.teams.through.objects.filter(sigmaprofile__user=user).values("team_id")
    from_groups = GroupMapping.teams.through.objects.filter(groupmapping__group__user=user).values(
        "team_id"
    )
    return Team.objects.filter(Q(id__in=own) | Q(id__in=from_groups))


def effective_team_ids(user: User) -> set[int]:
    return set(effective_teams(user).values_list("id", flat=True))


def identity_for(user: AnyUser) -> SigmaIdentity:
    """The identity Sigma will see for ``user``, from ``SIGMA_IDENTITY_RESOLVER``.

    Every path that signs, previews or lists embeds asks here. Raises what the
    resolver raises (a ``Refusal``), and ``ImproperlyConfigured`` when the setting
    names something that is not a callable.
    """
    resolver = sigma_settings.identity_resolver()
    if resolver is identity_for:
        # Pointing the setting at this function would recurse forever.
        raise ImproperlyConfigured(
            "SIGMA_IDENTITY_RESOLVER must name a resolver, not embeds.identity.identity_for; "
            "the default is embeds.identity.identity_from_mappings."
        )
    identity: SigmaIdentity = resolver(user)
    return identity


def check_identity_conflicts(user: AnyUser, identity: SigmaIdentity) -> None:
    """Refuse (``IdentityConflict``) an identity whose email is someone else's.

    Sigma signs in whoever the ``sub`` email names (a member as themselves, whatever
    the token says: spec §1.2), so the email (compared case-insensitively) must not
    be the Sigma identity of another active mapped host user, nor of a deactivated
    user mapped as internal (their Sigma membership lives on), nor any stored
    credential's owner (a Sigma member, usually an Admin; revoked credentials
    included) unless the user's own mapping declares them that internal member. Mapping forms and
    imports refuse a taken email when saved; this catches what they cannot see (a
    ``User.email`` edited later, a group giving access to an unmapped user). Two
    statements; ``embeds.snapshots`` runs it when it builds the identity snapshot,
    which every write to a user, mapping, group or credential invalidates.
    """
    username = user.get_username()
    others = sorted(
        other.get_username()
        for other in sigma_members_signed_in_as(identity.email, exclude_user_id=user.pk)[:3]
    )
    if others:
        raise IdentityConflict(
            f"User {username!r} has the Sigma email of active user(s) "
            f"{', '.join(repr(name) for name in others)}."
        )
    declared_member = identity.internal and not identity.internal_by_group
    if not declared_member:
        # Every stored credential's owner, revoked ones too: revoking the host's copy
        # of a credential (the usual state after a rotation) leaves its owner a Sigma
        # member, whom Sigma signs in as themselves.
        owned = Credential.objects.filter(owner_email__iexact=identity.email)
        owner_of = owned.values_list("name", flat=True).first()
        if owner_of is not None:
            raise IdentityConflict(
                f"User {username!r} has the Sigma email of the owner of credential "
                f"{owner_of!r} but is not mapped as that internal member."
            )


def _agreed(values: set[str], disagreement: Exception) -> str:
    """The one value groups agree on ("" for none); raise ``disagreement`` otherwise."""
    if len(values) > 1:
        raise disagreement
    return next(iter(values), "")


def identity_from_mappings(user: User) -> SigmaIdentity:
    """The default resolver: the identity from this app's user and group mappings.

    Refuses with ``UserBlocked`` (kill switch), ``NoEmail`` (no usable email:
    empty, whitespace, underscores, not RFC-1035), ``NoAccountType`` (an embed
    user without one: Sigma gives the *highest* account type when none is sent),
    ``AmbiguousAccountType`` / ``AmbiguousConnection`` (groups disagree and the
    user has none of their own). A user is internal when their own mapping says
    so, or, only where it says "inherit" (or there is none), when any of their
    groups' does; the most specific ``eval_connection_id`` wins (own, then
    groups'). Names come from the host user. Having no team is decided per
    embed, in ``embeds.issuing.access``.
    """
    username = user.get_username()
    profile = SigmaProfile.objects.select_related("account_type").filter(user=user).first()
    if profile is not None and profile.is_blocked:
        raise UserBlocked(f"User {username!r} is blocked.")
    email = (profile.sigma_email if profile and profile.sigma_email else user.email) or ""
    if sigma_email_problem(email):
        raise NoEmail(f"User {username!r} has no valid Sigma email.")

    own = _OwnMapping.of(profile)
    groups = _group_mappings(user, own)
    internal, by_group = _internal(own.internal, groups)
    account_type = _account_type(username, own.account_type, groups, internal=internal)
    connection = own.eval_connection_id or _agreed(
        {value for _, _, value in groups if value},
        AmbiguousConnection(f"User {username!r} gets different connections from groups."),
    )
    teams, team_ids = _teams(user)
    return SigmaIdentity(
        email=email,
        account_type=account_type,
        teams=teams,
        team_ids=team_ids,
        user_attributes=_attributes(profile),
        internal=internal,
        internal_by_group=by_group,
        first_name=(getattr(user, "first_name", "") or "").strip(),
        last_name=(getattr(user, "last_name", "") or "").strip(),
        eval_connection_id=connection,
    )


#: One group mapping of the user: account type name, internal flag, connection.
_GroupRow = tuple[str | None, bool, str]


@dataclass(frozen=True)
class _OwnMapping:
    """What the user's own mapping says: no type, "inherit" and no connection when
    they have none."""

    account_type: str
    internal: str
    eval_connection_id: str

    @classmethod
    def of(cls, profile: SigmaProfile | None) -> _OwnMapping:
        if profile is None:
            return cls("", SigmaProfile.Internal.INHERIT, "")
        account_type = profile.account_type.name if profile.account_type else ""
        return cls(account_type, profile.internal, profile.eval_connection_id)

    def decides_everything(self) -> bool:
        """Whether the groups cannot change the identity (type, internal, connection)."""
        return bool(
            self.account_type
            and self.internal != SigmaProfile.Internal.INHERIT
            and self.eval_connection_id
        )


def _group_mappings(user: User, own: _OwnMapping) -> list[_GroupRow]:
    """The user's groups' mappings, read only when their own one leaves something
    open (account type, internal flag, connection): one query, this runs on every
    page view."""
    if own.decides_everything():
        return []
    return list(
        GroupMapping.objects.filter(group__user=user).values_list(
            "account_type__name", "internal", "eval_connection_id"
        )
    )


def _internal(own_decision: str, groups: list[_GroupRow]) -> tuple[bool, bool]:
    """Whether the user is internal, and whether only through a group.

    Security: "internal" is decided per person. The user's own mapping decides when
    it says internal or embed; only "inherit" (or no mapping) lets a group make
    them internal, since an internal token carries no account type, teams or
    attributes and Sigma gives a non-member the *highest* type. Any other stored
    value is treated as an embed user (fails closed: it then needs a type).
    """
    if own_decision == SigmaProfile.Internal.INHERIT:
        by_group = any(flag for _, flag, _ in groups)
        return by_group, by_group
    return own_decision == SigmaProfile.Internal.INTERNAL, False


def _account_type(username: str, own_type: str, groups: list[_GroupRow], *, internal: bool) -> str:
    """The user's own account type, else the one their groups agree on; "" only for
    an internal user (they keep their Sigma account type; nothing is sent)."""
    group_types = {name for name, _, _ in groups if name}
    account_type = own_type or _agreed(
        group_types,
        AmbiguousAccountType(
            f"User {username!r} gets {', '.join(sorted(group_types))} from groups."
        ),
    )
    if not account_type and not internal:
        raise NoAccountType(f"User {username!r} has no account type.")
    return account_type


def _teams(user: User) -> tuple[tuple[str, ...], frozenset[int]]:
    """The names and ids of the user's effective teams, in one query (this runs on
    every page view)."""
    rows = sorted(effective_teams(user).values_list("name", "id"))
    return tuple(name for name, _ in rows), frozenset(team_id for _, team_id in rows)


def _attributes(profile: SigmaProfile | None) -> tuple[tuple[str, str], ...]:
    if profile is None:
        return ()
    return tuple(
        profile.attributes.select_related("attribute")
        .order_by("attribute__name")
        .values_list("attribute__name", "value")
    )
