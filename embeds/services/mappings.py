"""A user's Sigma mapping: the per-user kill switch and the admin's save; each one audited."""

from __future__ import annotations

import logging

from django.db import transaction

from embeds.models import (
    SecurityEvent,
    SigmaProfile,
)
from embeds.services.audit import record_security_event

logger = logging.getLogger(__name__)


def block_user(*, user, actor=None, reason: str) -> SigmaProfile:
    """The per-user kill switch: refuse every embed for ``user`` from the next request."""
    if not reason or not reason.strip():
        raise ValueError("A reason is required to block a user's embeds.")
    with transaction.atomic():
        profile, _ = SigmaProfile.objects.select_for_update().get_or_create(user=user)
        profile.is_blocked = True
        profile.blocked_reason = reason.strip()
        profile.save(update_fields=["is_blocked", "blocked_reason"])
        record_security_event(
            SecurityEvent.Kind.USER_BLOCKED,
            subject=user,
            actor=actor,
            reason=profile.blocked_reason,
        )
    logger.warning(
        "Blocked Sigma embeds of user=%s by user=%s", user.pk, getattr(actor, "pk", None)
    )
    return profile


def unblock_user(*, user, actor=None, reason: str = "") -> SigmaProfile:
    """Lift the per-user kill switch; the blocked reason is cleared (the trail keeps it)."""
    with transaction.atomic():
        profile, _ = SigmaProfile.objects.select_for_update().get_or_create(user=user)
        profile.is_blocked = False
        profile.blocked_reason = ""
        profile.save(update_fields=["is_blocked", "blocked_reason"])
        record_security_event(
            SecurityEvent.Kind.USER_UNBLOCKED, subject=user, actor=actor, reason=reason.strip()
        )
    logger.warning(
        "Unblocked Sigma embeds of user=%s by user=%s", user.pk, getattr(actor, "pk", None)
    )
    return profile


def save_sigma_profile(*, profile: SigmaProfile, actor=None) -> SigmaProfile:
    """Create or update a user's Sigma mapping from a validated form.

    Like :func:`save_embed`: a change of the kill switch goes through
    :func:`block_user` / :func:`unblock_user`; teams are the caller's ``save_m2m``.
    """
    with transaction.atomic():
        stored = (
            SigmaProfile.objects.select_for_update().filter(pk=profile.pk).first()
            if profile.pk
            else None
        )
        blocked, reason = profile.is_blocked, profile.blocked_reason
        was_blocked = stored.is_blocked if stored is not None else False
        profile.is_blocked = was_blocked
        profile.blocked_reason = stored.blocked_reason if stored is not None else ""
        profile.save()
        if blocked and not was_blocked:
            block_user(user=profile.user, actor=actor, reason=reason)
        elif was_blocked and not blocked:
            unblock_user(user=profile.user, actor=actor)
        elif blocked and reason != profile.blocked_reason:
            SigmaProfile.objects.filter(pk=profile.pk).update(blocked_reason=reason)
        profile.refresh_from_db()
    return profile
