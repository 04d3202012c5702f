"""Embed switches (on/off, which credential signs) and the admin's save; each one audited."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from embeds.issuing import snapshots
from embeds.models import (
    Credential,
    Embed,
    EmbedControl,
    SecurityEvent,
    Team,
)
from embeds.services import audit

if TYPE_CHECKING:
    from embeds.services.audit import Actor

logger = logging.getLogger(__name__)


def disable_embed(*, embed: Embed, actor: Actor = None, reason: str) -> Embed:
    """Switch an embed off: every view of it is refused from the next request."""
    reason = audit.required_reason(reason, to="disable an embed")
    return _switch_embed(embed, enabled=False, actor=actor, reason=reason)


def enable_embed(*, embed: Embed, actor: Actor = None, reason: str = "") -> Embed:
    """Switch an embed back on; its disabled reason is cleared (the trail keeps it)."""
    return _switch_embed(embed, enabled=True, actor=actor, reason=reason.strip())


def _switch_embed(embed: Embed, *, enabled: bool, actor: Actor, reason: str) -> Embed:
    with transaction.atomic():
        locked = Embed.objects.select_for_update().get(pk=embed.pk)
        audit.apply_switch(
            locked,
            SecurityEvent.Kind.EMBED_ENABLED if enabled else SecurityEvent.Kind.EMBED_DISABLED,
            state={"is_enabled": enabled, "disabled_reason": "" if enabled else reason},
            actor=actor,
            reason=reason,
            embed=locked,
            credential=locked.credential,
        )
    audit.log_change(logger, "Enabled" if enabled else "Disabled", "embed", locked.slug, actor)
    return locked


def switch_embed_credential(*, embed: Embed, credential: Credential, actor: Actor = None) -> Embed:
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
        audit.record_security_event(
            SecurityEvent.Kind.EMBED_CREDENTIAL_SWITCHED,
            embed=locked,
            credential=credential,
            actor=actor,
            detail=f"Signs with {credential} (was {previous}).",
        )
        snapshots.invalidate()
    logger.warning(
        "Sigma embed %s now signs with %s (was %s) by user=%s",
        locked.slug,
        credential.client_id,
        previous.client_id,
        getattr(actor, "pk", None),
    )
    return locked


def save_embed(*, embed: Embed, teams: Iterable[Team] | None = None, actor: Actor = None) -> Embed:
    """Create or update ``embed`` from a validated form or the config file.

    The plain fields are saved as given; ``teams`` (an iterable of ``Team``; None
    leaves them) are set here and a change is recorded as ``embed_teams_changed``.
    A change of ``is_enabled`` or of the credential is applied by
    :func:`disable_embed` / :func:`enable_embed` / :func:`switch_embed_credential`, so
    it is recorded exactly as from an action.
    """
    with transaction.atomic():
        if embed._state.adding:  # a new embed: nothing to switch yet
            embed.save()
            before: dict[str, object] = {}
        else:
            stored = Embed.objects.select_for_update().get(pk=embed.pk)
            before = {"teams": frozenset(stored.teams.values_list("name", flat=True))}
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
        if teams is not None:
            embed.teams.set(teams)
            detail = audit.describe_changes(
                before, {"teams": frozenset(embed.teams.values_list("name", flat=True))}
            )
            if detail:
                audit.record_security_event(
                    SecurityEvent.Kind.EMBED_TEAMS_CHANGED, embed=embed, actor=actor, detail=detail
                )
        snapshots.invalidate()
    return embed


CONTROL_FIELDS = ("control_id", "type", "default_value", "allow_from_query")


def _control_text(control: EmbedControl) -> str:
    query = ", page may set it" if control.allow_from_query else ""
    default = control.default_value.replace("\n", ",")
    return f"{control.type} {default!r}{query}"


def set_embed_controls(
    *, embed: Embed, controls: Sequence[EmbedControl], actor: Actor = None
) -> None:
    """Make ``controls`` (unsaved ``EmbedControl`` values) the embed's controls.

    Controls not listed are deleted, the others created or updated in place. A
    change is recorded as ``embed_controls_changed`` (control ids, types and
    defaults); the issuing-path cache is invalidated.
    """
    with transaction.atomic():
        current = {c.control_id: c for c in embed.controls.all()}
        wanted = {c.control_id: c for c in controls}
        before = {cid: _control_text(c) for cid, c in current.items()}
        after = {cid: _control_text(c) for cid, c in wanted.items()}
        embed.controls.exclude(control_id__in=list(wanted)).delete()
        for control_id, control in wanted.items():
            row = current.get(control_id)
            if row is None:
                EmbedControl.objects.create(
                    embed=embed, **{name: getattr(control, name) for name in CONTROL_FIELDS}
                )
            elif any(getattr(row, n) != getattr(control, n) for n in CONTROL_FIELDS):
                for name in CONTROL_FIELDS:
                    setattr(row, name, getattr(control, name))
                row.save()
        detail = audit.describe_changes(before, after)
        if detail:
            audit.record_security_event(
                SecurityEvent.Kind.EMBED_CONTROLS_CHANGED, embed=embed, actor=actor, detail=detail
            )
        snapshots.invalidate()


def delete_embeds(*, embeds: Iterable[Embed], actor: Actor = None) -> None:
    """Delete embeds (their controls and error reports go with them; the access
    records keep their slug)."""
    audit.delete_rows(embeds, actor=actor, log=logger, named=lambda e: ("embed", e.slug))
