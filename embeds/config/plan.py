"""Import, first half: compare a parsed document with the database.

:class:`Planner` checks every item (references, model rules, the secret variables)
and collects the problems, and for each item a :class:`Step`: whether it would be
created, changed or left alone, and how to apply it through ``embeds.services``.
Planning writes nothing; ``embeds.config.transfer.import_config`` applies the steps.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from embeds import services
from embeds.conf import sigma_settings
from embeds.config.schema import EMBED_FIELDS, quoted
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
from embeds.services.registry import RegistryEntry

DEFAULT_REVOKED_REASON = "Revoked in the sigma_config file."
DEFAULT_DISABLED_REASON = "Disabled in the sigma_config file."
DEFAULT_BLOCKED_REASON = "Blocked in the sigma_config file."

#: One item of a section, as the schema dumped it.
Item = dict[str, Any]


@dataclass
class Step:
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


def _clean(instance: Model, where: str, problems: list[str], exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        problems.extend(f"{where}.{m}" if ": " in m else f"{where}: {m}" for m in _messages(exc))


def _assign(instance: Model, values: Mapping[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


class Planner:
    """Compares the document with the database; collects problems and steps."""

    def __init__(self, sections: dict[str, list[Item]], *, allow_internal: bool = False) -> None:
        self.sections = sections
        self.allow_internal = allow_internal
        self.problems: list[str] = []
        self.steps: list[Step] = []
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

    def _refs(self, kind: str, names: Iterable[str], where: str, what: str) -> None:
        for name in names:
            if name not in self.names[kind]:
                self.problems.append(
                    f"{where}: unknown {what} {quoted(name)} (add it to {kind} or create it first)"
                )

    def plan(self) -> None:
        self._plan_registry(AccountType, "account_types", "account type")
        self._plan_registry(UserAttribute, "user_attributes", "user attribute")
        self._plan_registry(Team, "teams", "team")
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

    def _step(self, label: str, created: bool, changed: bool, apply: Callable[[], Any]) -> None:
        action = "created" if created else "changed" if changed else "unchanged"
        self.steps.append(Step(label, action, apply if action != "unchanged" else None))

    # Registries ---------------------------------------------------------------------

    def _plan_registry(self, model: type[RegistryEntry], section: str, label: str) -> None:
        for index, item in enumerate(self.sections[section]):
            self._plan_named(model, item, f"{section}[{index}]", label)

    def _plan_named(self, model: type[RegistryEntry], item: Item, where: str, label: str) -> None:
        instance = model.objects.filter(name=item["name"]).first()
        created = instance is None
        entry = instance or model(name=item["name"])
        changed = _assign(entry, {"description": item["description"]})
        _clean(entry, where, self.problems, exclude=[])
        self._step(
            f"{label} {item['name']!r}",
            created,
            changed,
            lambda: services.save_registry_entry(entry=entry),
        )

    # Credentials ----------------------------------------------------------------------

    def _plan_credential(self, item: Item, where: str) -> None:
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
        fields = {
            "client_id": item["client_id"],
            "description": item["description"],
            "owner_email": item["owner_email"],
            "owner_is_admin": item["owner_is_admin"],
        }
        existing = Credential.objects.filter(name=item["name"]).first()
        if existing is None:
            self._plan_new_credential(item, where, fields, secret)
        else:
            self._plan_existing_credential(existing, item, where, fields, secret)

    def _plan_new_credential(
        self, item: Item, where: str, fields: dict[str, Any], secret: str | None
    ) -> None:
        env_name = item["secret_env"]
        if secret is None and not os.environ.get(env_name):
            self.problems.append(
                f"{where}.secret_env: ${env_name} is not set or empty; a new "
                "credential's secret must come from it"
            )
        probe = Credential(name=item["name"], **fields)
        _clean(probe, where, self.problems, exclude=["secret", "secret_fingerprint"])
        if secret is None:
            return  # a problem says why (unset or invalid): the import will stop
        reason = item["revoked_reason"].strip() or DEFAULT_REVOKED_REASON

        def apply() -> None:
            credential = services.create_credential(name=item["name"], secret=secret, **fields)
            if not item["active"]:
                services.revoke_credential(credential=credential, reason=reason)

        self._step(f"credential {item['name']!r}", True, False, apply)

    def _plan_existing_credential(
        self,
        existing: Credential,
        item: Item,
        where: str,
        fields: dict[str, Any],
        secret: str | None,
    ) -> None:
        label = f"credential {item['name']!r}"
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
        do_revoke = not item["active"] and existing.is_active
        reason = item["revoked_reason"].strip() or DEFAULT_REVOKED_REASON
        if item["active"] and not existing.is_active:
            self.notes.append(
                f"{label} stays revoked although the file says active; re-activate it "
                "with `manage.py sigma_credentials activate`"
            )

        def apply() -> None:
            if changed_fields:
                services.update_credential(credential=existing, fields=fields)
            if new_secret is not None:
                services.replace_credential_secret(credential=existing, secret=new_secret)
            if do_revoke:
                services.revoke_credential(credential=existing, reason=reason)

        if new_secret is not None:
            self.notes.append(f"{label}: secret replaced from ${item['secret_env']}")
        self._step(label, False, changed_fields or new_secret is not None or do_revoke, apply)

    # Embeds -----------------------------------------------------------------------------

    def _plan_embed(self, item: Item, where: str) -> None:
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
        changed |= self._plan_controls(embed if not created else None, controls, where)

        def apply() -> None:
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

    def _plan_controls(self, stored: Embed | None, controls: list[Item], where: str) -> bool:
        """Check an embed's controls; whether they differ from those ``stored`` has."""
        seen = set()
        for c_index, control in enumerate(controls):
            c_where = f"{where}.controls[{c_index}]"
            if control["control_id"] in seen:
                self.problems.append(f"{c_where}.control_id: listed twice")
            seen |= {control["control_id"]}
            _clean(EmbedControl(**control), c_where, self.problems, exclude=["embed"])
        if stored is None:
            return False
        control_fields = ("control_id", "type", "default_value", "allow_from_query")
        wanted = {tuple(c[name] for name in control_fields) for c in controls}
        return set(stored.controls.values_list(*control_fields)) != wanted

    # Users and groups ---------------------------------------------------------------------

    def _plan_mapping_refs(self, item: Item, where: str) -> None:
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

    def _plan_user(self, item: Item, where: str) -> None:
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
        stored = SigmaProfile.objects.select_related("account_type").filter(user=user).first()
        created = stored is None
        profile = stored or SigmaProfile(user=user)
        changed = _assign(
            profile,
            {
                "sigma_email": item["sigma_email"],
                "is_blocked": item["is_blocked"],
                "blocked_reason": item["blocked_reason"],
            },
        )
        _clean(profile, where, self.problems, exclude=["user", "account_type", "teams"])
        before = SigmaProfile.objects.filter(user=user).first()  # not the one assigned to
        wanted = SigmaProfile(user=user, sigma_email=item["sigma_email"], internal=item["internal"])
        email = item["sigma_email"] or user.email or "(no email)"
        self._check_internal(
            services.changes_internal_identity(before, wanted),
            where,
            f"user {user.get_username()!r} (id {user.pk}, now {user.email or 'no email'}): "
            f"internal {item['internal']!r}, Sigma email {email}",
        )
        if not created:
            changed |= _mapping_differs(profile, item)
            current_attrs = dict(profile.attributes.values_list("attribute__name", "value"))
            changed |= current_attrs != item["attributes"]

        def apply() -> None:
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
            services.save_sigma_profile(
                profile=obj, teams=_teams(item), operator=self.allow_internal
            )
            services.set_user_attributes(
                user=user,
                values={
                    UserAttribute.objects.get(name=name): value
                    for name, value in item["attributes"].items()
                },
            )

        self._step(f"user {item['username']!r}", created, changed, apply)

    def _plan_group(self, item: Item, where: str) -> None:
        group = Group.objects.filter(name=item["name"]).first()
        if group is None:
            self.problems.append(
                f"{where}.name: no group {quoted(item['name'])}; groups must exist first"
            )
            return
        self._plan_mapping_refs(item, where)
        mapping = GroupMapping.objects.select_related("account_type").filter(group=group).first()
        created = mapping is None
        changed = mapping is not None and _mapping_differs(mapping, item)
        self._check_internal(
            (mapping.internal if mapping else False) != item["internal"],
            where,
            f"group {item['name']!r} would make its members "
            + ("internal" if item["internal"] else "embed users"),
        )

        def apply() -> None:
            obj = GroupMapping(group=group)
            _assign_mapping(obj, item)
            services.save_group_mapping(
                group=group,
                account_type=obj.account_type,
                teams=_teams(item),
                internal=obj.internal,
                eval_connection_id=obj.eval_connection_id,
                operator=self.allow_internal,
            )

        self._step(f"group {item['name']!r}", created, changed, apply)

    def _check_internal(self, changes: bool, where: str, what: str) -> None:
        """A change of who is an internal Sigma member needs ``--allow-internal``.

        The operator has shell access and is trusted with it, like the permission
        ``embeds.assign_internal_identity`` in the admin; the file may come from
        elsewhere (a repository, a colleague), so it must be asked for by name. The
        refusal names the account (username and id, as it is now) and the Sigma email
        it would be signed in as: an entry matched by username may have landed on
        another account than the file's author meant.
        """
        if changes and not self.allow_internal:
            self.problems.append(
                f"{where}.internal: changes who is signed in as an internal Sigma member "
                f"(a real Sigma session as them): {what}; check it, then import with "
                "--allow-internal"
            )


def _mapping_differs(mapping: SigmaProfile | GroupMapping, item: Item) -> bool:
    """Whether a stored user or group mapping differs from the file (account type,
    teams, internal flag, connection)."""
    current_type = mapping.account_type.name if mapping.account_type else None
    return (
        current_type != item["account_type"]
        or set(mapping.teams.values_list("name", flat=True)) != set(item["teams"])
        or mapping.internal != item["internal"]
        or mapping.eval_connection_id != item["eval_connection_id"]
    )


def _assign_mapping(mapping: SigmaProfile | GroupMapping, item: Item) -> None:
    """Set a user or group mapping's account type and flags from the file (unsaved)."""
    mapping.account_type = (
        AccountType.objects.get(name=item["account_type"])
        if item["account_type"] is not None
        else None
    )
    mapping.internal = item["internal"]
    mapping.eval_connection_id = item["eval_connection_id"]


def _teams(item: Item) -> QuerySet[Team]:
    return Team.objects.filter(name__in=item["teams"])
