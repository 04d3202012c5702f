"""A user's Sigma mapping: the per-user kill switch and the admin's save; each one audited."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from embeds.issuing import snapshots
from embeds.models import (
    AccountType,
    GroupMapping,
    SecurityEvent,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    UserAttribute,
)
from embeds.models.mappings import has_internal_identity, may_assign_internal_identity
from embeds.services.audit import (
    apply_switch,
    describe_changes,
    record_security_event,
    required_reason,
)

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import Group, User

    from embeds.services.audit import Actor

logger = logging.getLogger(__name__)

MSG_INTERNAL_PERMISSION = (
    "Only users with the permission “Can map users to internal Sigma members (real "
    "Sigma sessions)” (embeds.assign_internal_identity) may make a mapping internal, "
    "change whether it is, or change the email of an internal Sigma member."
)


def _require_internal_permission(*, actor: Actor, operator: bool) -> None:
    """Refuse a change of who is signed in as an internal Sigma member.

    An internal token is a real Sigma session as the member its email names
    (Admin rights included), so choosing that email needs its own permission, not
    only the right to edit users or mappings. ``operator`` is the shell operator
    (``sigma_config import --allow-internal``), trusted like ``manage.py shell``.
    """
    if operator or may_assign_internal_identity(actor):
        return
    raise PermissionDenied(MSG_INTERNAL_PERMISSION)


def block_user(*, user: User, actor: Actor = None, reason: str) -> SigmaProfile:
    """The per-user kill switch: refuse every embed for ``user`` from the next request."""
    reason = required_reason(reason, to="block a user's embeds")
    return _switch_user(user, blocked=True, actor=actor, reason=reason)


def unblock_user(*, user: User, actor: Actor = None, reason: str = "") -> SigmaProfile:
    """Lift the per-user kill switch; the blocked reason is cleared (the trail keeps it)."""
    return _switch_user(user, blocked=False, actor=actor, reason=reason.strip())


def _switch_user(user: User, *, blocked: bool, actor: Actor, reason: str) -> SigmaProfile:
    with transaction.atomic():
        # A user without a mapping can be blocked too: the switch lives on the mapping.
        profile, _ = SigmaProfile.objects.select_for_update().get_or_create(user=user)
        apply_switch(
            profile,
            SecurityEvent.Kind.USER_BLOCKED if blocked else SecurityEvent.Kind.USER_UNBLOCKED,
            state={"is_blocked": blocked, "blocked_reason": reason if blocked else ""},
            actor=actor,
            reason=reason,
            subject=user,
        )
    logger.warning(
        "%s Sigma embeds of user=%s by user=%s",
        "Blocked" if blocked else "Unblocked",
        user.pk,
        getattr(actor, "pk", None),
    )
    return profile


def _mapping_state(mapping: SigmaProfile | GroupMapping | None) -> dict[str, object]:
    """What a user's or group's mapping puts into tokens, by name (for the trail)."""
    if mapping is None or mapping.pk is None:
        return {}
    state: dict[str, object] = {
        "account type": mapping.account_type.name if mapping.account_type is not None else None,
        "teams": frozenset(mapping.teams.values_list("name", flat=True)),
        "internal": mapping.internal,
        "connection": mapping.eval_connection_id,
    }
    if isinstance(mapping, SigmaProfile):
        state["sigma email"] = mapping.sigma_email
    return state


def changes_internal_identity(stored: SigmaProfile | None, profile: SigmaProfile) -> bool:
    """Whether saving ``profile`` over ``stored`` changes who is an internal member.

    Any change of the user's "Sigma user type" does (embed and inherit included:
    inherit lets an internal group decide), and so does a change of the email
    Sigma sees for a user who is internal (by their own mapping or their groups').
    """
    if (stored.internal if stored else SigmaProfile.Internal.INHERIT) != profile.internal:
        return True
    own_email = profile.user.email or ""
    before = (stored.sigma_email if stored else "") or own_email
    after = profile.sigma_email or own_email
    if before.strip().lower() == after.strip().lower():
        return False
    if profile.internal == SigmaProfile.Internal.INHERIT:
        return has_internal_identity(profile.user)
    return profile.internal == SigmaProfile.Internal.INTERNAL


def save_sigma_profile(
    *,
    profile: SigmaProfile,
    teams: Iterable[Team] | None = None,
    actor: Actor = None,
    operator: bool = False,
) -> SigmaProfile:
    """Create or update a user's Sigma mapping from a validated form or the config file.

    ``teams`` (an iterable of ``Team``; None leaves them) are set here. A change of
    the kill switch goes through :func:`block_user` / :func:`unblock_user`; a change
    of the email, account type, teams, internal flag or connection is recorded as
    ``user_mapping_changed``. The issuing-path cache is invalidated.

    Security: making a mapping internal, changing its internal setting, or changing
    the email of an internal member needs ``embeds.assign_internal_identity`` held
    by ``actor`` (or ``operator``, the shell); ``PermissionDenied`` otherwise. An
    internal mapping's email is pinned: a blank one gets the user's email now, so a
    later edit of ``User.email`` (by anyone who can edit users) does not change
    whom the token signs in as.
    """
    with transaction.atomic():
        stored = (
            SigmaProfile.objects.select_for_update().filter(pk=profile.pk).first()
            if profile.pk
            else None
        )
        if changes_internal_identity(stored, profile):
            _require_internal_permission(actor=actor, operator=operator)
        if profile.internal == SigmaProfile.Internal.INTERNAL and not profile.sigma_email.strip():
            profile.sigma_email = profile.user.email or ""
        before = _mapping_state(stored)
        blocked, reason = profile.is_blocked, profile.blocked_reason
        was_blocked = stored.is_blocked if stored is not None else False
        profile.is_blocked = was_blocked
        profile.blocked_reason = stored.blocked_reason if stored is not None else ""
        profile.save()
        if teams is not None:
            profile.teams.set(teams)
        if blocked and not was_blocked:
            block_user(user=profile.user, actor=actor, reason=reason)
        elif was_blocked and not blocked:
            unblock_user(user=profile.user, actor=actor)
        elif blocked and reason != profile.blocked_reason:
            SigmaProfile.objects.filter(pk=profile.pk).update(blocked_reason=reason)
        profile.refresh_from_db()
        detail = describe_changes(before, _mapping_state(profile))
        if detail:
            record_security_event(
                SecurityEvent.Kind.USER_MAPPING_CHANGED,
                subject=profile.user,
                actor=actor,
                detail=detail,
            )
        snapshots.invalidate()
    return profile


def set_user_attributes(
    *, user: User, values: Mapping[UserAttribute, str], actor: Actor = None
) -> None:
    """Make ``values`` the user's Sigma user attributes (row-level security values).

    Rows for attributes not in ``values`` are deleted, the others created or
    updated; a user without a mapping gets one only when ``values`` is not empty.
    Recorded as ``user_attributes_changed`` (attribute names and values, which are
    settings, never secrets); the issuing-path cache is invalidated.
    """
    with transaction.atomic():
        profile = SigmaProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            if not values:
                return
            profile = SigmaProfile.objects.create(user=user)
        current = {row.attribute_id: row for row in profile.attributes.select_related("attribute")}
        wanted = {attribute.pk: (attribute, value) for attribute, value in values.items()}
        before = {row.attribute.name: row.value for row in current.values()}
        after = {attribute.name: value for attribute, value in wanted.values()}
        profile.attributes.exclude(attribute_id__in=list(wanted)).delete()
        for pk, (attribute, value) in wanted.items():
            row = current.get(pk)
            if row is None:
                SigmaProfileAttribute.objects.create(
                    profile=profile, attribute=attribute, value=value
                )
            elif row.value != value:
                row.value = value
                row.save(update_fields=["value"])
        detail = describe_changes(before, after)
        if detail:
            record_security_event(
                SecurityEvent.Kind.USER_ATTRIBUTES_CHANGED, subject=user, actor=actor, detail=detail
            )
        snapshots.invalidate()


def save_group_mapping(
    *,
    group: Group,
    account_type: AccountType | None,
    teams: Iterable[Team],
    internal: bool = False,
    eval_connection_id: str = "",
    actor: Actor = None,
    operator: bool = False,
) -> GroupMapping:
    """Create or update a group's Sigma mapping (what its members get).

    Recorded as ``group_mapping_changed`` when the account type, teams, internal
    flag or connection change; the issuing-path cache is invalidated. Changing the
    internal flag needs ``embeds.assign_internal_identity`` (see
    :func:`save_sigma_profile`).
    """
    with transaction.atomic():
        mapping = GroupMapping.objects.select_for_update().filter(group=group).first()
        if (mapping.internal if mapping else False) != internal:
            _require_internal_permission(actor=actor, operator=operator)
        before = _mapping_state(mapping)
        mapping = mapping or GroupMapping(group=group)
        mapping.account_type = account_type
        mapping.internal = internal
        mapping.eval_connection_id = eval_connection_id
        mapping.save()
        mapping.teams.set(teams)
        detail = describe_changes(before, _mapping_state(mapping))
        became_internal = internal and not before.get("internal")
        made_internal = _members_made_internal(group) if became_internal else []
        if made_internal:
            detail = f"{detail}; members now internal: {len(made_internal)}"
        if detail:
            record_security_event(
                SecurityEvent.Kind.GROUP_MAPPING_CHANGED, group=group, actor=actor, detail=detail
            )
        for member, email in made_internal:
            record_security_event(
                SecurityEvent.Kind.USER_MAPPING_CHANGED,
                subject=member,
                actor=actor,
                detail=f"internal through group {group.name!r} as {email or '(no email)'}",
            )
        snapshots.invalidate()
    return mapping


def _members_made_internal(group: Group) -> list[tuple[User, str]]:
    """The members a now-internal group signs in as internal members, each with the
    Sigma email they are then signed in as (their own mapping's, else
    ``User.email``): recorded, since a ``User.email`` chosen earlier becomes a Sigma
    member's session here."""
    made = []
    for user in group.user_set.select_related("sigma_profile").order_by("username"):
        profile: SigmaProfile | None = getattr(user, "sigma_profile", None)
        if profile is not None and profile.internal != SigmaProfile.Internal.INHERIT:
            continue  # their own mapping decides
        own = profile.sigma_email if profile is not None else ""
        made.append((user, own or user.email or ""))
    return made


def _delete_mapping(
    mappings: QuerySet[SigmaProfile] | QuerySet[GroupMapping],
    kind: str,
    *,
    actor: Actor,
    subject: User | None = None,
    group: Group | None = None,
) -> None:
    """Delete the one mapping in ``mappings`` (if any) and record what it gave."""
    with transaction.atomic():
        mapping = mappings.select_for_update().first()
        if mapping is None:
            return
        before = _mapping_state(mapping)
        mapping.delete()
        detail = describe_changes(before, {}) or "mapping removed"
        record_security_event(kind, actor=actor, detail=detail, subject=subject, group=group)
        snapshots.invalidate()


def delete_group_mapping(*, group: Group, actor: Actor = None, operator: bool = False) -> None:
    """Remove a group's Sigma mapping: its members no longer get its teams or type.

    For an internal group this needs ``embeds.assign_internal_identity`` (like
    :func:`delete_sigma_profile` for an internal member): its members stop being
    internal, and their ``User.email`` becomes editable without it.
    """
    mappings = GroupMapping.objects.filter(group=group)
    if mappings.filter(internal=True).exists():
        _require_internal_permission(actor=actor, operator=operator)
    _delete_mapping(mappings, SecurityEvent.Kind.GROUP_MAPPING_CHANGED, actor=actor, group=group)


def delete_sigma_profile(*, user: User, actor: Actor = None, operator: bool = False) -> None:
    """Remove a user's own Sigma mapping (and attributes): only their groups' is left.

    For an internal member this needs ``embeds.assign_internal_identity``: without
    their pinned email, an internal group would sign them in as ``User.email``.
    """
    if has_internal_identity(user):
        _require_internal_permission(actor=actor, operator=operator)
    _delete_mapping(
        SigmaProfile.objects.filter(user=user),
        SecurityEvent.Kind.USER_MAPPING_CHANGED,
        actor=actor,
        subject=user,
    )
