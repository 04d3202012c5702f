"""Ask the Sigma organization about the host's configuration (read side).

:func:`api_client` builds a REST API client from the credential that carries the
REST API privilege; :func:`collect_usage` gathers every name the host sends to
Sigma (teams, account types, attributes, content, owners, emails) with what
depends on it; :func:`check_against_sigma` runs ``embeds.remote.findings`` on both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, Unpack

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.views.decorators.debug import sensitive_variables

from embeds.conf import sigma_settings
from embeds.exceptions import Refusal
from embeds.issuing.identity import identity_for
from embeds.models import (
    AccountType,
    Credential,
    Embed,
    GroupMapping,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    UserAttribute,
)
from embeds.models.registry import RegistryEntry
from embeds.remote.client import ClientOptions, SigmaAPIClient, SigmaAPIError, SigmaObject
from embeds.remote.findings import (
    ConfigUsage,
    CredentialUsage,
    EmbedUsage,
    Finding,
    RemoteSettings,
    UserUsage,
    find_remote_problems,
)

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


class NoAPICredential(SigmaAPIError):
    """No usable credential with the REST API privilege."""


def api_credential(name: str | None = None) -> Credential:
    """The active credential with the REST API privilege (by ``name`` when given).

    Refuses (``NoAPICredential``) when there is none, when ``name`` names none, or
    when several qualify and no name (``SIGMA_API_CREDENTIAL``) picks one.
    """
    name = name or sigma_settings.API_CREDENTIAL or None
    candidates = Credential.objects.active().filter(api_privilege=True)
    if name is not None:
        candidates = candidates.filter(name=name)
    found = list(candidates[:2])
    if not found:
        which = f"named {name!r} " if name else ""
        raise NoAPICredential(
            f"No active credential {which}has the REST API privilege. Create REST API "
            "client credentials in Sigma (Administration > Developer Access) and add them "
            "with 'REST API privilege' ticked."
        )
    if len(found) > 1:
        raise NoAPICredential(
            "Several active credentials have the REST API privilege: name one with "
            "SIGMA_API_CREDENTIAL or --credential."
        )
    return found[0]


@sensitive_variables("secret")
def api_client(
    credential: Credential | None = None, **client_options: Unpack[ClientOptions]
) -> SigmaAPIClient:
    """A REST API client for ``credential`` (default: :func:`api_credential`).

    The secret is decrypted and proven (``Credential.signing_secret``) before use:
    a value that did not decrypt is never sent to Sigma.
    """
    credential = credential or api_credential()
    if not credential.api_privilege:
        raise NoAPICredential(
            f"Credential {credential.name!r} does not have the REST API privilege."
        )
    try:
        secret = credential.signing_secret()
    except Refusal:
        raise NoAPICredential(
            f"Credential {credential.name!r} cannot be read with this site's keys "
            "(FIELD_ENCRYPTION_KEY); manage.py sigma_check explains what is wrong."
        ) from None
    return SigmaAPIClient(
        base_url=sigma_settings.API_BASE_URL,
        client_id=credential.client_id,
        client_secret=secret,
        **client_options,
    )


def _embed_usage(embed: Embed) -> EmbedUsage | None:
    try:
        content = embed.content
    except ValidationError:
        return None  # the local checks (embeds.E0xx) already report an invalid URL
    # The URL's id is a workbook's or a data model's, by the URL's document.
    data_model = content.document == "data-model"
    return EmbedUsage(
        slug=embed.slug,
        credential=embed.credential.name,
        kind=content.kind,
        workbook_url_id=None if data_model else content.workbook_id or None,
        page_id=content.page_id,
        element_id=content.element_id,
        data_model_url_id=content.workbook_id if data_model else None,
        teams=tuple(sorted(team.name for team in embed.teams.all())),
        eval_connection_id=getattr(embed, "eval_connection_id", "") or "",
        tag=content.tag,
    )


def collect_usage() -> ConfigUsage:
    """Every Sigma name the host uses, with the embeds and users that depend on it.

    Users are those with a Sigma mapping (own or through a group) who are active;
    their identity comes from ``SIGMA_IDENTITY_RESOLVER``, exactly what would be
    signed. A user the resolver refuses is left out (the local checks report why).
    """
    usage = ConfigUsage()
    for embed in Embed.objects.select_related("credential").prefetch_related("teams"):
        _add_embed(usage, embed)
    for credential in Credential.objects.active().filter(embed_privilege=True):
        _add_credential(usage, credential)
    for user in _mapped_users():
        _add_user(usage, user)
    return usage


def usage_for(
    *,
    embeds: Iterable[Embed] = (),
    credentials: Iterable[Credential] = (),
    users: Iterable[User] = (),
    teams: Iterable[Team] = (),
) -> ConfigUsage:
    """What ``embeds``, ``credentials``, ``users`` and ``teams`` alone name in Sigma.

    For checks of one change (an admin save, a preview): the same findings as a
    whole check, limited to what these objects use.
    """
    usage = ConfigUsage()
    for team in teams:
        usage.teams.setdefault(team.name, set()).add(f"team {team.name}")
    for embed in embeds:
        _add_embed(usage, embed)
    for credential in credentials:
        if credential.is_active and credential.embed_privilege:
            _add_credential(usage, credential)
    for user in users:
        _add_user(usage, user)
    return usage


def _add_embed(usage: ConfigUsage, embed: Embed) -> None:
    for team in embed.teams.all():
        usage.teams.setdefault(team.name, set()).add(f"embed {embed.slug}")
    found = _embed_usage(embed)
    if found is not None:
        usage.embeds.append(found)


def _add_credential(usage: ConfigUsage, credential: Credential) -> None:
    usage.credentials.append(
        CredentialUsage(
            name=credential.name,
            client_id=credential.client_id,
            owner_email=credential.owner_email,
            owner_is_admin=credential.owner_is_admin,
            embeds=tuple(
                sorted(credential.embeds.filter(is_enabled=True).values_list("slug", flat=True))
            ),
        )
    )


def _add_user(usage: ConfigUsage, user: User) -> None:
    try:
        identity = identity_for(user)
    except Refusal:
        return
    who = f"user {user.get_username()}"
    internal = bool(getattr(identity, "internal", False))
    for team in identity.teams:
        usage.teams.setdefault(team, set()).add(who)
    if identity.account_type:
        usage.account_types.setdefault(identity.account_type, set()).add(who)
    for name, _value in identity.user_attributes:
        usage.attributes.setdefault(name, set()).add(who)
    usage.users.append(
        UserUsage(
            username=user.get_username(),
            sigma_email=identity.email,
            internal=internal,
            eval_connection_id=getattr(identity, "eval_connection_id", "") or "",
        )
    )


def _mapped_users() -> QuerySet[User]:
    """Active host users with a Sigma mapping of their own or through a group."""
    User = get_user_model()
    mapped = Q(pk__in=SigmaProfile.objects.values("user_id")) | Q(
        groups__in=GroupMapping.objects.values("group_id")
    )
    return User.objects.filter(mapped, is_active=True).distinct().order_by(User.USERNAME_FIELD)


def check_against_sigma(
    *, client: SigmaAPIClient | None = None, usage: ConfigUsage | None = None
) -> list[Finding]:
    """Findings of every remote check (of ``usage`` only, when given); raises
    ``SigmaAPIError`` when Sigma cannot answer."""
    owned = client is None
    client = client or api_client()
    try:
        findings = find_remote_problems(
            directory=client,
            usage=usage or collect_usage(),
            host=RemoteSettings(
                oauth_token_provider=bool(getattr(settings, "SIGMA_OAUTH_TOKEN_PROVIDER", None))
            ),
        )
    finally:
        if owned:
            client.close()
    logger.info(
        "Checked the configuration against Sigma: %s error(s), %s warning(s)",
        sum(1 for f in findings if f.level == "error"),
        sum(1 for f in findings if f.level == "warning"),
    )
    return findings


# A check run for an admin's save or preview waits on Sigma this long per request,
# without retries: Sigma being slow or away is a notice, never a block.
QUICK_CHECK_TIMEOUT = 5.0
MSG_NO_API_CREDENTIAL = (
    "Not checked against Sigma: no active credential has the REST API privilege."
)
MSG_SIGMA_UNREACHABLE = (
    "Not checked against Sigma: Sigma did not answer (%s). The change is saved; run "
    "the check again later (Check against Sigma, or manage.py sigma_check --remote)."
)


@dataclass(frozen=True)
class QuickCheck:
    """The remote findings about a few objects, or why there are none."""

    findings: tuple[Finding, ...] = ()
    notice: str = ""  # set when Sigma was not asked or did not answer
    checked: bool = False


def quick_check(
    *,
    embeds: Iterable[Embed] = (),
    credentials: Iterable[Credential] = (),
    users: Iterable[User] = (),
    teams: Iterable[Team] = (),
    client: SigmaAPIClient | None = None,
) -> QuickCheck:
    """Remote checks of these objects only, time-boxed; never raises for Sigma's sake.

    Without a REST API credential nothing is asked (``checked`` False, a notice);
    Sigma unreachable or refusing the credential is a notice too.
    """
    usage = usage_for(embeds=embeds, credentials=credentials, users=users, teams=teams)
    if client is None:
        try:
            credential = api_credential()
        except NoAPICredential:
            return QuickCheck(notice=MSG_NO_API_CREDENTIAL)
        try:
            client = api_client(credential, timeout=QUICK_CHECK_TIMEOUT, max_retries=0)
        except NoAPICredential as refused:
            return QuickCheck(notice=f"Not checked against Sigma: {refused}")
    try:
        with client:
            findings = check_against_sigma(client=client, usage=usage)
    except SigmaAPIError as error:
        logger.warning("Quick check against Sigma failed: %s", type(error).__name__)
        return QuickCheck(notice=MSG_SIGMA_UNREACHABLE % type(error).__name__)
    return QuickCheck(findings=tuple(findings), checked=True)


# --- Registry sync: plan (read) -------------------------------------------------------

ADD, RENAME, LINK, RETIRE = "add", "rename", "link", "retire"


@dataclass(frozen=True)
class RegistryChange:
    """One step that brings a host registry in line with Sigma."""

    kind: str  # "team", "account type", "user attribute"
    action: str  # ADD, RENAME, LINK (same name: record Sigma's id), RETIRE
    name: str  # the name in Sigma (add, rename, link) or in the host (retire)
    sigma_id: str = ""
    old_name: str = ""  # rename: the host's current name
    used_by: tuple[str, ...] = ()  # retire: what still uses it (then it is kept)

    @property
    def blocked(self) -> bool:
        return self.action == RETIRE and bool(self.used_by)


#: The registry models (each has ``name`` and ``sigma_id``).
RegistryModel = type[Team] | type[AccountType] | type[UserAttribute]


_EntryT = TypeVar("_EntryT", bound=RegistryEntry)


@dataclass(frozen=True)
class _Registry(Generic[_EntryT]):
    kind: str
    model: type[_EntryT]
    fetch: Callable[[SigmaAPIClient], list[SigmaObject]]
    id_key: str
    name_keys: tuple[str, ...]
    users: Callable[[_EntryT], tuple[str, ...]]

    def sigma_rows(self, client: SigmaAPIClient) -> dict[str, str]:
        """Sigma's live rows of this registry: id -> name."""
        rows: dict[str, str] = {}
        for row in self.fetch(client):
            if row.get("isArchived"):
                continue
            names = (row.get(k) for k in self.name_keys)
            name = next((n for n in names if isinstance(n, str)), "")
            ident = str(row.get(self.id_key) or "")
            if name and ident:
                rows[ident] = name
        return rows

    def plan(self, client: SigmaAPIClient) -> list[RegistryChange]:
        """What a sync would change in this registry (see plan_registry_sync)."""
        changes: list[RegistryChange] = []
        sigma = self.sigma_rows(client)
        host: list[_EntryT] = list(self.model._default_manager.all())
        by_id = {row.sigma_id: row for row in host if row.sigma_id}
        by_name = {row.name: row for row in host}
        matched: set[int] = set()
        for ident, name in sorted(sigma.items(), key=lambda item: item[1]):
            row = by_id.get(ident)
            if row is not None:
                matched.add(row.pk)
                if row.name != name:
                    changes.append(RegistryChange(self.kind, RENAME, name, ident, row.name))
                continue
            row = by_name.get(name)
            if row is not None:
                matched.add(row.pk)
                changes.append(RegistryChange(self.kind, LINK, name, ident))
            else:
                changes.append(RegistryChange(self.kind, ADD, name, ident))
        for row in host:
            if row.pk not in matched:
                changes.append(RegistryChange(self.kind, RETIRE, row.name, used_by=self.users(row)))
        return changes

    def users_of(self, row: RegistryEntry) -> tuple[str, ...]:
        if not isinstance(row, self.model):
            raise TypeError(f"{type(row).__name__} is not a row of the {self.kind} registry.")
        return self.users(row)


def _team_users(team: Team) -> tuple[str, ...]:
    embeds = [f"embed {slug}" for slug in team.embeds.values_list("slug", flat=True)]
    users = [
        f"user {name}"
        for name in SigmaProfile.objects.filter(teams=team).values_list("user__username", flat=True)
    ]
    groups = [
        f"group {name}"
        for name in GroupMapping.objects.filter(teams=team).values_list("group__name", flat=True)
    ]
    return tuple(sorted(embeds + users + groups))


def _account_type_users(account_type: AccountType) -> tuple[str, ...]:
    users = SigmaProfile.objects.filter(account_type=account_type).values_list(
        "user__username", flat=True
    )
    groups = GroupMapping.objects.filter(account_type=account_type).values_list(
        "group__name", flat=True
    )
    return tuple(sorted([f"user {u}" for u in users] + [f"group {g}" for g in groups]))


def _attribute_users(attribute: UserAttribute) -> tuple[str, ...]:
    users = SigmaProfileAttribute.objects.filter(attribute=attribute).values_list(
        "profile__user__username", flat=True
    )
    return tuple(sorted(f"user {u}" for u in users))


REGISTRIES: tuple[_Registry[Team], _Registry[AccountType], _Registry[UserAttribute]] = (
    _Registry("team", Team, SigmaAPIClient.list_teams, "teamId", ("name",), _team_users),
    _Registry(
        "account type",
        AccountType,
        SigmaAPIClient.list_account_types,
        "accountTypeId",
        ("accountTypeName", "name"),
        _account_type_users,
    ),
    _Registry(
        "user attribute",
        UserAttribute,
        SigmaAPIClient.list_user_attributes,
        "userAttributeId",
        ("name",),
        _attribute_users,
    ),
)


def plan_registry_sync(client: SigmaAPIClient) -> list[RegistryChange]:
    """What a sync would change in the team, account type and attribute registries.

    A Sigma row the host knows by id but under another name is a rename (the
    host's mappings follow it); one the host has by name only is linked (its id is
    recorded); one the host lacks is added. A host row Sigma no longer has is
    retired, unless something still uses it: then it is listed with its users and
    kept, for an admin to remap first.
    """
    changes: list[RegistryChange] = []
    for registry in REGISTRIES:
        changes += registry.plan(client)
    return changes


def registry_model(kind: str) -> RegistryModel:
    return next(r.model for r in REGISTRIES if r.kind == kind)


def registry_users(kind: str, row: RegistryEntry) -> tuple[str, ...]:
    """What still uses a registry row (embeds, users, groups), by name."""
    return next(r for r in REGISTRIES if r.kind == kind).users_of(row)
