"""Export: the whole Sigma configuration as a JSON-ready document.

Credentials are exported *by reference* (name, client ID, owner, and the name of an
environment variable that holds the secret); a secret never leaves the database.
"""

from __future__ import annotations

import re
from typing import Any

from embeds.config.schema import EMBED_FIELDS, FORMAT_VERSION
from embeds.models import AccountType, Credential, Embed, Team, UserAttribute
from embeds.models.mappings import GroupMapping, SigmaProfile


def secret_env_name(credential_name: str) -> str:
    """The environment variable name export suggests for a credential's secret."""
    slug = re.sub(r"[^A-Z0-9]+", "_", credential_name.upper()).strip("_")
    return f"SIGMA_SECRET_{slug or 'CREDENTIAL'}"[:128]


def export_config() -> dict[str, Any]:
    """The whole Sigma configuration as a JSON-ready dict (never a secret)."""
    credentials, embeds, users, groups = _credentials(), _embeds(), _users(), _groups()
    return {
        "version": FORMAT_VERSION,
        "account_types": [
            {"name": a.name, "description": a.description}
            for a in AccountType.objects.order_by("name")
        ],
        "user_attributes": [
            {"name": a.name, "description": a.description}
            for a in UserAttribute.objects.order_by("name")
        ],
        "teams": [
            {"name": t.name, "description": t.description} for t in Team.objects.order_by("name")
        ],
        "credentials": credentials,
        "embeds": embeds,
        "users": users,
        "groups": groups,
    }


def _credentials() -> list[dict[str, Any]]:
    """Each credential by reference; two names that suggest the same variable get
    ``_2``, ``_3``... in the order of their names."""
    used_env: set[str] = set()
    credentials = []
    for c in Credential.objects.order_by("name"):
        env_name = base = secret_env_name(c.name)
        n = 2
        while env_name in used_env:
            env_name, n = f"{base}_{n}", n + 1
        used_env |= {env_name}
        credentials.append(
            {
                "name": c.name,
                "client_id": c.client_id,
                "secret_env": env_name,
                "description": c.description,
                "owner_email": c.owner_email,
                "owner_is_admin": c.owner_is_admin,
                "active": c.is_active,
                "revoked_reason": c.revoked_reason,
            }
        )
    return credentials


def _embeds() -> list[dict[str, Any]]:
    embeds = []
    for e in (
        Embed.objects.select_related("credential")
        .prefetch_related("teams", "controls")
        .order_by("slug")
    ):
        item = {
            name: getattr(e, name)
            for name in EMBED_FIELDS
            if name not in ("credential", "teams", "controls")
        }
        item["credential"] = e.credential.name
        item["teams"] = sorted(t.name for t in e.teams.all())
        item["controls"] = [
            {
                "control_id": c.control_id,
                "type": c.type,
                "default_value": c.default_value,
                "allow_from_query": c.allow_from_query,
            }
            for c in sorted(e.controls.all(), key=lambda c: c.control_id)
        ]
        embeds.append(item)
    return embeds


def _users() -> list[dict[str, Any]]:
    users = []
    for p in SigmaProfile.objects.select_related("user", "account_type").prefetch_related(
        "teams", "attributes__attribute"
    ):
        users.append(
            {
                "username": p.user.get_username(),
                "sigma_email": p.sigma_email,
                "account_type": p.account_type.name if p.account_type else None,
                "teams": sorted(t.name for t in p.teams.all()),
                "attributes": {a.attribute.name: a.value for a in p.attributes.all()},
                "is_blocked": p.is_blocked,
                "blocked_reason": p.blocked_reason,
                "internal": p.internal,
                "eval_connection_id": p.eval_connection_id,
            }
        )
    return sorted(users, key=lambda u: u["username"])


def _groups() -> list[dict[str, Any]]:
    return [
        {
            "name": g.group.name,
            "account_type": g.account_type.name if g.account_type else None,
            "teams": sorted(t.name for t in g.teams.all()),
            "internal": g.internal,
            "eval_connection_id": g.eval_connection_id,
        }
        for g in GroupMapping.objects.select_related("group", "account_type")
        .prefetch_related("teams")
        .order_by("group__name")
    ]
