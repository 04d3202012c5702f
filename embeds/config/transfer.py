"""Declarative Sigma configuration: export to, and import from, a JSON document.

The document holds account types, user attribute names, teams, credentials *by
reference* (name, client ID, owner, and the name of an environment variable that
holds the secret; never a secret), embeds with their options and controls, and the
Sigma mappings of existing users and groups.

Import validates the whole document before writing anything, then applies it in
one transaction and reports what it created, changed and left alone. It is
idempotent, never deletes an object that is absent from the document, and never
re-activates revoked credentials (that stays a deliberate, audited act).

Export is :mod:`embeds.config.export`; the import's comparison with the database,
item by item, is :mod:`embeds.config.plan`. This module reads the file, runs the plan
and applies it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from django.db import transaction

from embeds.config.export import export_config, secret_env_name
from embeds.config.plan import (
    DEFAULT_BLOCKED_REASON,
    DEFAULT_DISABLED_REASON,
    DEFAULT_REVOKED_REASON,
    Planner,
)
from embeds.config.schema import MAX_BYTES, MSG_TOO_LARGE, SECTIONS, ConfigInvalid, parse_document

__all__ = [
    "DEFAULT_BLOCKED_REASON",
    "DEFAULT_DISABLED_REASON",
    "DEFAULT_REVOKED_REASON",
    "ImportReport",
    "export_config",
    "import_config",
    "read_config",
    "secret_env_name",
]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "notes": self.notes,
        }


def read_config(path: str | os.PathLike[str]) -> str:
    """The text of a config file, read no further than the size limit.

    Raises :class:`ConfigInvalid` for a file over ``MAX_BYTES`` (without reading the
    rest of it), ``OSError`` when it cannot be read and ``UnicodeDecodeError`` when
    it is not UTF-8.
    """
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ConfigInvalid([MSG_TOO_LARGE % {"limit": MAX_BYTES}])
    return data.decode("utf-8")


def import_config(
    text: str, *, dry_run: bool = False, allow_internal: bool = False
) -> ImportReport:
    """Validate the whole document, then apply it in one transaction.

    Raises :class:`ConfigInvalid` (nothing written) when any part is invalid: bad
    JSON or shape, unknown keys, a secret in the file, unknown users, groups or
    references, a duplicate client ID, a missing or invalid secret variable for a
    new credential, any model validation error, or, without ``allow_internal``, a
    change of who is an internal Sigma member. With ``dry_run`` the same report
    is produced and nothing is written.
    """
    document = parse_document(text)
    sections = {name: [item.model_dump() for item in getattr(document, name)] for name in SECTIONS}
    planner = Planner(sections, allow_internal=allow_internal)
    planner.plan()
    if planner.problems:
        raise ConfigInvalid(planner.problems)
    report = ImportReport(notes=planner.notes)
    for step in planner.steps:
        getattr(report, step.action).append(step.label)
    if not dry_run:
        with transaction.atomic():
            for step in planner.steps:
                if step.apply is not None:
                    step.apply()
    return report
