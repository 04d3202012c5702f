"""Declarative Sigma configuration: export to, and import from, a JSON document.

The document holds account types, user attribute names, teams, credentials *by
reference* (name, client ID, owner, and the name of an environment variable that
holds the secret; never a secret), embeds with their options and controls, and the
Sigma mappings of existing users and groups.

Import validates the whole document before writing anything, then applies it in
one transaction and reports what it created, changed and left alone. It is
idempotent, never deletes an object that is absent from the document, and never
re-activates revoked credentials (that stays a deliberate, audited act).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from embeds import services
from embeds.conf import sigma_settings
from embeds.config.schema import (
    EMBED_FIELDS,
    FORMAT_VERSION,
    MAX_BYTES,
    MSG_TOO_LARGE,
    SECTIONS,
    ConfigInvalid,
    parse_document,
    quoted,
)
from embeds.exceptions import CredentialBroken
from embeds.models import (
    AccountType,
    Credential,
    Embed,
    EmbedControl,
    GroupMapping,
    SigmaProfile,
    Team,
    UserAttribute,
    validate_embed_secret,
)
from embeds.protocol.validators import validate_attribute_value, validate_connection_id

DEFAULT_REVOKED_REASON = "Revoked in the sigma_config file."
DEFAULT_DISABLED_REASON = "Disabled in the sigma_config file."
DEFAULT_BLOCKED_REASON = "Blocked in the sigma_config file."


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


# --- Reading a file ----------------------------------------------------------------


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


# --- Export ----------------------------------------------------------------------


def secret_env_name(credential_name: str) -> str:
    """The environment variable name export suggests for a credential's secret."""
    slug = re.sub(r"[^A-Z0-9]+", "_", credential_name.upper()).strip("_")
    return f"SIGMA_SECRET_{slug or 'CREDENTIAL'}"[:128]


def export_config() -> dict[str, Any]:
    """The whole Sigma configuration as a JSON-ready dict (never a secret)."""
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
    groups = [
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
        "users": sorted(users, key=lambda u: u["username"]),
        "groups": groups,
    }


# --- Import: plan and apply ----------------------------------------------------------


@dataclass
class _Step:
    label: str
    action: str  # "created" | "changed" | "unchanged"
    apply: Callable[[], None] | None = None


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{name}: {message}" if name != "__all__" else message
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def _clean(instance, where: str, problems: list[str], exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        problems.extend(f"{where}.{m}" if ": " in m else f"{where}: {m}" for m in _messages(exc))


def _assign(instance, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


class _Planner:
    """Compares the document with the database; collects problems and steps."""

    def __init__(self, sections: dict[str, list[dict[str, Any]]]) -> None:
        self.sections = sections
        self.problems: list[str] = []
        self.steps: list[_Step] = []
        self.notes: list[str] = []
        self.names = {
            "account_types": {i["name"] for i in sections["account_types"]}
            | set(AccountType.objects.values_list("name", flat=True)),
            "user_attributes": {i["name"] for i in sections["user_attributes"]}
            | set(UserAttribute.objects.values_list("name", flat=True)),
            "teams": {i["name"] for i in sections["teams"]}
            | set(Team.objects.values_list("name", flat=True)),
            "credentials": {i["name"] for i in sections["credentials"]}
            | set(Credential.objects.values_list("name", flat=True)),
        }

    def _refs(self, kind: str, names, where: str, what: str) -> None:
        for name in names:
            if name not in self.names[kind]:
                self.problems.append(
                    f"{where}: unknown {what} {quoted(name)} (add it to {kind} or create it first)"
                )

    def plan(self) -> None:
        for model, section, label in (
            (AccountType, "account_types", "account type"),
            (UserAttribute, "user_attributes", "user attribute"),
            (Team, "teams", "team"),
        ):
            for index, item in enumerate(self.sections[section]):
                self._plan_named(model, item, f"{section}[{index}]", label)
        client_ids: dict[str, str] = {}
        for index, item in enumerate(self.sections["credentials"]):
            where = f"credentials[{index}]"
            if item["client_id"] in client_ids:
                self.problems.append(
                    f"{where}.client_id: also used by credential "
                    f"{quoted(client_ids[item['client_id']])}"
                )
            client_ids[item["client_id"]] = item["name"]
            self._plan_credential(item, where)
        for index, item in enumerate(self.sections["embeds"]):
            self._plan_embed(item, f"embeds[{index}]")
        for index, item in enumerate(self.sections["users"]):
            self._plan_user(item, f"users[{index}]")
        for index, item in enumerate(self.sections["groups"]):
            self._plan_group(item, f"groups[{index}]")

    # Registries ---------------------------------------------------------------------

    def _plan_named(self, model, item: dict, where: str, label: str) -> None:
        instance = model.objects.filter(name=item["name"]).first()
        created = instance is None
        instance = instance or model(name=item["name"])
        changed = _assign(instance, {"description": item["description"]})
        _clean(instance, where, self.problems, exclude=[])
        self._step(
            f"{label} {item['name']!r}",
            created,
            changed,
            lambda instance=instance: services.save_registry_entry(entry=instance),
        )

    def _step(self, label: str, created: bool, changed: bool, apply) -> None:
        action = "created" if created else "changed" if changed else "unchanged"
        self.steps.append(_Step(label, action, apply if action != "unchanged" else None))

    # Credentials ----------------------------------------------------------------------

    def _plan_credential(self, item: dict, where: str) -> None:
        # The schema allowed only SIGMA_SECRET_* names (never SECRET_KEY and the like).
        env_name = item["secret_env"]
        secret = None
        if os.environ.get(env_name):
            secret = os.environ[env_name]
            try:
                validate_embed_secret(secret)
            except ValidationError as exc:
                # The message names the variable and the rule, never the value.
                self.problems.append(f"{where}.secret_env: ${env_name}: {exc.messages[0]}")
                secret = None
        existing = Credential.objects.filter(name=item["name"]).first()
        label = f"credential {item['name']!r}"
        fields = {
            "client_id": item["client_id"],
            "description": item["description"],
            "owner_email": item["owner_email"],
            "owner_is_admin": item["owner_is_admin"],
        }
        revoke = not item["active"]
        reason = item["revoked_reason"].strip() or DEFAULT_REVOKED_REASON
        if existing is None:
            if secret is None and not os.environ.get(env_name):
                self.problems.append(
                    f"{where}.secret_env: ${env_name} is not set or empty; a new "
                    "credential's secret must come from it"
                )
            probe = Credential(name=item["name"], **fields)
            _clean(probe, where, self.problems, exclude=["secret", "secret_fingerprint"])

            def apply_new(item=item, fields=fields, secret=secret, revoke=revoke, reason=reason):
                credential = services.create_credential(name=item["name"], secret=secret, **fields)
                if revoke:
                    services.revoke_credential(credential=credential, reason=reason)

            self._step(label, True, False, apply_new)
            return
        changed_fields = _assign(existing, fields)
        _clean(existing, where, self.problems, exclude=["secret", "secret_fingerprint"])
        new_secret = None
        if secret is not None:
            try:
                current = existing.signing_secret()
            except CredentialBroken:
                current = None
            if current != secret:
                new_secret = secret
        do_revoke = revoke and existing.is_active
        if item["active"] and not existing.is_active:
            self.notes.append(
                f"{label} stays revoked although the file says active; re-activate it "
                "with `manage.py sigma_credentials activate`"
            )

        def apply_existing(
            existing=existing,
            changed_fields=changed_fields,
            new_secret=new_secret,
            do_revoke=do_revoke,
            reason=reason,
        ):
            if changed_fields:
                services.update_credential(credential=existing, fields=fields)
            if new_secret is not None:
                services.replace_credential_secret(credential=existing, secret=new_secret)
            if do_revoke:
                services.revoke_credential(credential=existing, reason=reason)

        if new_secret is not None:
            self.notes.append(f"{label}: secret replaced from ${env_name}")
        self._step(
            label, False, changed_fields or new_secret is not None or do_revoke, apply_existing
        )

    # Embeds -----------------------------------------------------------------------------

    def _plan_embed(self, item: dict, where: str) -> None:
        self._refs("credentials", [item["credential"]], f"{where}.credential", "credential")
        self._refs("teams", item["teams"], f"{where}.teams", "team")
        values = {
            name: item[name]
            for name in EMBED_FIELDS
            if name not in ("slug", "credential", "teams", "controls")
        }
        if values["token_ttl"] is None:
            values["token_ttl"] = sigma_settings.DEFAULT_TOKEN_TTL
        existing = Embed.objects.select_related("credential").filter(slug=item["slug"]).first()
        created = existing is None
        embed = existing or Embed(slug=item["slug"])
        changed = _assign(embed, values)
        if not created:
            changed |= embed.credential.name != item["credential"]
            changed |= set(embed.teams.values_list("name", flat=True)) != set(item["teams"])
        _clean(embed, where, self.problems, exclude=["credential", "teams"])
        controls = item["controls"]
        seen = set()
        for c_index, control in enumerate(controls):
            c_where = f"{where}.controls[{c_index}]"
            if control["control_id"] in seen:
                self.problems.append(f"{c_where}.control_id: listed twice")
            seen |= {control["control_id"]}
            _clean(EmbedControl(**control), c_where, self.problems, exclude=["embed"])
        control_fields = ("control_id", "type", "default_value", "allow_from_query")
        wanted = {tuple(c[name] for name in control_fields) for c in controls}
        if not created:
            current = set(embed.controls.values_list(*control_fields))
            changed |= current != wanted

        def apply(item=item, values=values, controls=controls):
            # Through the service, so switching the embed off or to another
            # credential is recorded as from the admin.
            obj = Embed.objects.filter(slug=item["slug"]).first() or Embed(slug=item["slug"])
            switching_off = obj.pk is not None and obj.is_enabled and not values["is_enabled"]
            _assign(obj, values)
            if switching_off and not obj.disabled_reason.strip():
                obj.disabled_reason = DEFAULT_DISABLED_REASON  # disabling needs a reason
            obj.credential = Credential.objects.get(name=item["credential"])
            obj = services.save_embed(embed=obj, teams=Team.objects.filter(name__in=item["teams"]))
            services.set_embed_controls(
                embed=obj, controls=[EmbedControl(**control) for control in controls]
            )

        self._step(f"embed {item['slug']!r}", created, changed, apply)

    # Users and groups ---------------------------------------------------------------------

    def _plan_mapping_refs(self, item: dict, where: str) -> None:
        """The account type and teams a user or group mapping names must exist."""
        if item["account_type"] is not None:
            self._refs(
                "account_types", [item["account_type"]], f"{where}.account_type", "account type"
            )
        self._refs("teams", item["teams"], f"{where}.teams", "team")
        try:
            validate_connection_id(item["eval_connection_id"])
        except ValidationError as exc:
            self.problems.append(f"{where}.eval_connection_id: {exc.messages[0]}")

    def _plan_user(self, item: dict, where: str) -> None:
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: item["username"]}).first()
        if user is None:
            self.problems.append(
                f"{where}.username: no user {quoted(item['username'])}; users must exist first"
            )
            return
        self._plan_mapping_refs(item, where)
        self._refs("user_attributes", item["attributes"], f"{where}.attributes", "user attribute")
        for name, value in item["attributes"].items():
            try:
                validate_attribute_value(value)
            except ValidationError as exc:
                self.problems.append(f"{where}.attributes.{name}: {exc.messages[0]}")
        profile = SigmaProfile.objects.select_related("account_type").filter(user=user).first()
        created = profile is None
        profile = profile or SigmaProfile(user=user)
        changed = _assign(
            profile,
            {
                "sigma_email": item["sigma_email"],
                "is_blocked": item["is_blocked"],
                "blocked_reason": item["blocked_reason"],
            },
        )
        _clean(profile, where, self.problems, exclude=["user", "account_type", "teams"])
        if not created:
            changed |= _mapping_differs(profile, item)
            current_attrs = dict(profile.attributes.values_list("attribute__name", "value"))
            changed |= current_attrs != item["attributes"]

        def apply(user=user, item=item):
            obj = SigmaProfile.objects.filter(user=user).first() or SigmaProfile(user=user)
            obj.sigma_email = item["sigma_email"]
            blocking = item["is_blocked"] and not obj.is_blocked
            obj.is_blocked = item["is_blocked"]
            obj.blocked_reason = item["blocked_reason"]
            if blocking and not obj.blocked_reason.strip():
                obj.blocked_reason = DEFAULT_BLOCKED_REASON  # blocking needs a reason
            # Through the services, so the kill switch, the mapping and the attributes
            # are recorded as from the admin.
            _assign_mapping(obj, item)
            services.save_sigma_profile(profile=obj, teams=_teams(item))
            services.set_user_attributes(
                user=user,
                values={
                    UserAttribute.objects.get(name=name): value
                    for name, value in item["attributes"].items()
                },
            )

        self._step(f"user {item['username']!r}", created, changed, apply)

    def _plan_group(self, item: dict, where: str) -> None:
        group = Group.objects.filter(name=item["name"]).first()
        if group is None:
            self.problems.append(
                f"{where}.name: no group {quoted(item['name'])}; groups must exist first"
            )
            return
        self._plan_mapping_refs(item, where)
        mapping = GroupMapping.objects.select_related("account_type").filter(group=group).first()
        created = mapping is None
        changed = not created and _mapping_differs(mapping, item)

        def apply(group=group, item=item):
            obj = GroupMapping(group=group)
            _assign_mapping(obj, item)
            services.save_group_mapping(
                group=group,
                account_type=obj.account_type,
                teams=_teams(item),
                internal=obj.internal,
                eval_connection_id=obj.eval_connection_id,
            )

        self._step(f"group {item['name']!r}", created, changed, apply)


def _mapping_differs(mapping, item: dict) -> bool:
    """Whether a stored user or group mapping differs from the file (account type,
    teams, internal flag, connection)."""
    current_type = mapping.account_type.name if mapping.account_type else None
    return (
        current_type != item["account_type"]
        or set(mapping.teams.values_list("name", flat=True)) != set(item["teams"])
        or mapping.internal != item["internal"]
        or mapping.eval_connection_id != item["eval_connection_id"]
    )


def _assign_mapping(mapping, item: dict) -> None:
    """Set a user or group mapping's account type and flags from the file (unsaved)."""
    mapping.account_type = (
        AccountType.objects.get(name=item["account_type"])
        if item["account_type"] is not None
        else None
    )
    mapping.internal = item["internal"]
    mapping.eval_connection_id = item["eval_connection_id"]


def _teams(item: dict):
    return Team.objects.filter(name__in=item["teams"])


def import_config(text: str, *, dry_run: bool = False) -> ImportReport:
    """Validate the whole document, then apply it in one transaction.

    Raises :class:`ConfigInvalid` (nothing written) when any part is invalid: bad
    JSON or shape, unknown keys, a secret in the file, unknown users, groups or
    references, a duplicate client ID, a missing or invalid secret variable for a
    new credential, or any model validation error. With ``dry_run`` the same report
    is produced and nothing is written.
    """
    document = parse_document(text)
    sections = {name: [item.model_dump() for item in getattr(document, name)] for name in SECTIONS}
    planner = _Planner(sections)
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
