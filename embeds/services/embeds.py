"""Embed switches (on/off, which credential signs) and the admin's save; each one audited."""

from __future__ import annotations

import logging

from django.db import transaction

from embeds.models import (
    Credential,
    Embed,
    SecurityEvent,
)
from embeds.services.audit import record_security_event

logger = logging.getLogger(__name__)


def disable_embed(*, embed: Embed, actor=None, reason: str) -> Embed:
    """Switch an embed off: every view of it is refused from the next request."""
    if not reason or not reason.strip():
        raise ValueError("A reason is required to disable an embed.")
    with transaction.atomic():
        locked = Embed.objects.select_for_update().get(pk=embed.pk)
        locked.is_enabled = False
        locked.disabled_reason = reason.strip()
        locked.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_DISABLED,
            embed=locked,
            credential=locked.credential,
            actor=actor,
            reason=locked.disabled_reason,
        )
    logger.warning("Disabled Sigma embed %s by user=%s", locked.slug, getattr(actor, "pk", None))
    return locked


def enable_embed(*, embed: Embed, actor=None, reason: str = "") -> Embed:
    """Switch an embed back on; its disabled reason is cleared (the trail keeps it)."""
    with transaction.atomic():
        locked = Embed.objects.select_for_update().get(pk=embed.pk)
        locked.is_enabled = True
        locked.disabled_reason = ""
        locked.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_ENABLED,
            embed=locked,
            credential=locked.credential,
            actor=actor,
            reason=reason.strip(),
        )
    logger.warning("Enabled Sigma embed %s by user=%s", locked.slug, getattr(actor, "pk", None))
    return locked


def switch_embed_credential(*, embed: Embed, credential: Credential, actor=None) -> Embed:
    """Sign ``embed`` with ``credential`` from its next request.

    Tokens already handed out stay valid until they are used or expire. Recorded
    on the new credential's trail, naming the previous one.
    """
    with transaction.atomic():
        locked = Embed.objects.select_for_update().select_related("credential").get(pk=embed.pk)
        previous = locked.credential
        if previous.pk == credential.pk:
            return locked
        locked.credential = credential
        locked.save(update_fields=["credential", "updated_at"])
        record_security_event(
            SecurityEvent.Kind.EMBED_CREDENTIAL_SWITCHED,
            embed=locked,
            credential=credential,
            actor=actor,
            detail=f"Signs with {credential} (was {previous}).",
        )
    logger.warning(
        "Sigma embed %s now signs with %s (was %s) by user=%s",
        locked.slug,
        credential.client_id,
        previous.client_id,
        getattr(actor, "pk", None),
    )
    return locked


def save_embed(*, embed: Embed, actor=None) -> Embed:
    """Create or update ``embed`` from a validated form; switches go through their services.

    The plain fields are saved as given. A change of ``is_enabled`` or of the
    credential is applied by :func:`disable_embed` / :func:`enable_embed` /
    :func:`switch_embed_credential`, so it is recorded exactly as from an action.
    Many-to-many fields (teams) are the caller's (the form's ``save_m2m``).
    """
    with transaction.atomic():
        if embed._state.adding:  # a new embed: nothing to switch yet
            embed.save()
            return embed
        stored = Embed.objects.select_for_update().get(pk=embed.pk)
        enabled, reason, credential = embed.is_enabled, embed.disabled_reason, embed.credential
        # Save everything else with the stored switches, then flip them one by one.
        embed.is_enabled, embed.disabled_reason = stored.is_enabled, stored.disabled_reason
        embed.credential_id = stored.credential_id
        embed.save()
        if credential.pk != stored.credential_id:
            switch_embed_credential(embed=embed, credential=credential, actor=actor)
        if enabled != stored.is_enabled:
            if enabled:
                enable_embed(embed=embed, actor=actor)
            else:
                disable_embed(embed=embed, actor=actor, reason=reason)
        elif not enabled and reason != stored.disabled_reason:
            Embed.objects.filter(pk=embed.pk).update(disabled_reason=reason)
        embed.refresh_from_db()
    return embed
