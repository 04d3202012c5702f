"""The registries (teams, account types, user attributes): the admin's and the config
file's saves and deletes, and the sync from Sigma, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction

from embeds.issuing import snapshots
from embeds.models import AccountType, Team, UserAttribute
from embeds.remote import usage as remote
from embeds.services.audit import delete_rows

if TYPE_CHECKING:
    from embeds.services.audit import Actor

# A team, an account type or a user attribute (what the admin and the config save).
RegistryEntry = TypeVar("RegistryEntry", Team, AccountType, UserAttribute)

logger = logging.getLogger(__name__)


def save_registry_entry(*, entry: RegistryEntry, actor: Actor = None) -> RegistryEntry:
    """Save a team, account type or user attribute (a rename reaches every token that
    carries it, so the issuing-path cache is invalidated)."""
    with transaction.atomic():
        entry.save()
        snapshots.invalidate()
    return entry


def delete_registry_entries(*, entries: Iterable[RegistryEntry], actor: Actor = None) -> None:
    """Delete teams, account types or user attributes (mappings lose them)."""
    delete_rows(
        entries, actor=actor, log=logger, named=lambda e: (str(e._meta.verbose_name), e.name)
    )


# --- Registry sync from Sigma ----------------------------------------------------------


@dataclass(frozen=True)
class RegistrySyncResult:
    added: int
    renamed: int
    linked: int
    retired: int
    kept: tuple[str, ...]  # retirements skipped (still used, or the name is taken)


def sync_registries(
    *, changes: Iterable[remote.RegistryChange], actor: Actor = None
) -> RegistrySyncResult:
    """Apply a plan from ``embeds.remote.usage.plan_registry_sync`` in one transaction.

    Adds and links record Sigma's id; renames change the host's name in place, so
    every embed and mapping that uses the row follows Sigma's new name; a row is
    retired (deleted) only while nothing uses it. A rename onto a name another host
    row already has is skipped and reported, never merged.
    """
    counts = {"add": 0, "rename": 0, "link": 0, "retire": 0}
    kept: list[str] = []
    with transaction.atomic():
        for change in changes:
            model = remote.registry_model(change.kind)
            if change.action == "add":
                _, created = model.objects.get_or_create(
                    name=change.name, defaults={"sigma_id": change.sigma_id}
                )
                counts["add"] += created
            elif change.action == "link":
                counts["link"] += model.objects.filter(name=change.name).update(
                    sigma_id=change.sigma_id
                )
            elif change.action == "rename":
                if model.objects.filter(name=change.name).exists():
                    kept.append(f"{change.kind} {change.old_name!r}: {change.name!r} is taken")
                    continue
                counts["rename"] += model.objects.filter(
                    sigma_id=change.sigma_id, name=change.old_name
                ).update(name=change.name)
            elif change.action == "retire":
                row = model.objects.filter(name=change.name).first()
                if row is None:
                    continue
                users = remote.registry_users(change.kind, row)
                if users:
                    kept.append(f"{change.kind} {change.name!r}: used by {', '.join(users)}")
                    continue
                row.delete()
                counts["retire"] += 1
        # Renames and links are QuerySet updates, which send no signals: the cached
        # identities would keep the old team names until they expire.
        snapshots.invalidate()
    logger.warning(
        "Synced Sigma registries by user=%s: %s added, %s renamed, %s linked, %s retired, %s kept",
        getattr(actor, "pk", None),
        counts["add"],
        counts["rename"],
        counts["link"],
        counts["retire"],
        len(kept),
    )
    return RegistrySyncResult(
        added=counts["add"],
        renamed=counts["rename"],
        linked=counts["link"],
        retired=counts["retire"],
        kept=tuple(kept),
    )
