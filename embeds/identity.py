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

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from .conf import sigma_settings
from .exceptions import AmbiguousAccountType, NoAccountType, NoEmail, UserBlocked
from .models import GroupMapping, SigmaProfile, Team
from .validators import sigma_email_problem


@dataclass(frozen=True)
class SigmaIdentity:
    """What the JWT says about a user. Same values on every embed (spec §1.2)."""

    email: str
    account_type: str
    teams: tuple[str, ...]
    team_ids: frozenset[int]
    user_attributes: tuple[tuple[str, str], ...]

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.user_attributes)


def effective_teams(user):
    """Teams of the user's own mapping plus every group mapping's, as one queryset."""
    own = SigmaProfile.teams.through.objects.filter(sigmaprofile__user=user).values("team_id")
    from_groups = GroupMapping.teams.through.objects.filter(groupmapping__group__user=user).values(
        "team_id"
    )
    return Team.objects.filter(Q(id__in=own) | Q(id__in=from_groups))


def effective_team_ids(user) -> set[int]:
    return set(effective_teams(user).values_list("id", flat=True))


def identity_for(user) -> SigmaIdentity:
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
    return resolver(user)


def identity_from_mappings(user) -> SigmaIdentity:
    """The default resolver: the identity from this app's user and group mappings.

    Refuses with ``UserBlocked`` (kill switch), ``NoEmail`` (no usable email:
    empty, whitespace, underscores, not RFC-1035), ``NoAccountType`` or
    ``AmbiguousAccountType`` (groups disagree and the user has none of their own).
    Sigma gives the *highest* account type when none is sent, so we never sign
    without one. Having no team is decided per embed, in ``embeds.access``.
    """
    profile = SigmaProfile.objects.select_related("account_type").filter(user=user).first()
    if profile is not None and profile.is_blocked:
        raise UserBlocked(f"User {user.get_username()!r} is blocked.")

    email = (profile.sigma_email if profile and profile.sigma_email else user.email) or ""
    if sigma_email_problem(email):
        raise NoEmail(f"User {user.get_username()!r} has no valid Sigma email.")

    if profile is not None and profile.account_type is not None:
        account_type = profile.account_type.name
    else:
        names = set(
            GroupMapping.objects.filter(group__user=user, account_type__isnull=False).values_list(
                "account_type__name", flat=True
            )
        )
        if not names:
            raise NoAccountType(f"User {user.get_username()!r} has no account type.")
        if len(names) > 1:
            raise AmbiguousAccountType(
                f"User {user.get_username()!r} gets {', '.join(sorted(names))} from groups."
            )
        (account_type,) = names

    # Names and ids in one query: this runs on every page view.
    rows = sorted(effective_teams(user).values_list("name", "id"))
    teams = tuple(name for name, _ in rows)
    team_ids = {team_id for _, team_id in rows}
    attributes: tuple[tuple[str, str], ...] = ()
    if profile is not None:
        attributes = tuple(
            profile.attributes.select_related("attribute")
            .order_by("attribute__name")
            .values_list("attribute__name", "value")
        )
    return SigmaIdentity(
        email=email,
        account_type=account_type,
        teams=teams,
        team_ids=frozenset(team_ids),
        user_attributes=attributes,
    )
