"""Compare the host's Sigma configuration with the Sigma organization itself.

Pure: :func:`find_remote_problems` takes what the host uses (:class:`ConfigUsage`,
gathered from the database by ``embeds.remote.usage.collect_usage``) and a REST API
client, and returns findings. Each finding names what is wrong, what it breaks
(embeds, users) and how to fix it; none carries a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from embeds.remote.client import SigmaAPIError

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR or WARNING
    id: str  # a stable id such as embeds.R001, for grep and for --json
    message: str
    hint: str
    obj: str  # what it is about: "team 'Sales'", "embed 'sales'"

    def as_dict(self) -> dict[str, str]:
        return {
            "level": self.level,
            "id": self.id,
            "message": self.message,
            "hint": self.hint,
            "obj": self.obj,
        }


@dataclass(frozen=True)
class EmbedUsage:
    slug: str
    credential: str  # the credential's name
    kind: str  # workbook, page, element, data model, ask
    # The id the embed URL carries: a workbookUrlId (browser and REST ``url`` forms)
    # or a workbookId UUID (API syntax); likewise for data models.
    workbook_url_id: str | None
    page_id: str | None
    element_id: str | None
    data_model_url_id: str | None
    teams: tuple[str, ...]
    eval_connection_id: str = ""
    tag: str | None = None  # a version tag: pages and elements are the tagged version's


@dataclass(frozen=True)
class CredentialUsage:
    name: str
    client_id: str
    owner_email: str
    owner_is_admin: bool
    embeds: tuple[str, ...]


@dataclass(frozen=True)
class UserUsage:
    username: str
    sigma_email: str
    internal: bool = False
    eval_connection_id: str = ""


@dataclass
class ConfigUsage:
    """Everything the host names in Sigma, with who depends on it."""

    teams: dict[str, set[str]] = field(default_factory=dict)  # name -> "embed x", "user y"
    account_types: dict[str, set[str]] = field(default_factory=dict)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    embeds: list[EmbedUsage] = field(default_factory=list)
    credentials: list[CredentialUsage] = field(default_factory=list)
    users: list[UserUsage] = field(default_factory=list)


class SigmaDirectory(Protocol):
    """What the checks ask Sigma (``embeds.remote.client.SigmaAPIClient`` answers it)."""

    def whoami(self) -> dict: ...
    def get_member(self, member_id: str) -> dict: ...
    def list_teams(self) -> list[dict]: ...
    def list_account_types(self) -> list[dict]: ...
    def list_user_attributes(self) -> list[dict]: ...
    def find_members(self, email: str) -> list[dict]: ...
    def list_workbooks(self, *, skip_permission_check: bool = False) -> list[dict]: ...
    def list_workbook_pages(self, workbook_id: str, *, tag: str | None = None) -> list[dict]: ...
    def list_page_elements(
        self, workbook_id: str, page_id: str, *, tag: str | None = None
    ) -> list[dict]: ...
    def list_grants(self, inode_id: str) -> list[dict]: ...
    def list_data_models(self, *, skip_permission_check: bool = False) -> list[dict]: ...
    def list_connections(self) -> list[dict]: ...


#: A Sigma workbookId or dataModelId (API syntax); a urlId is 16 to 32 alphanumerics.
_UUID = re.compile(r"^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\Z")


def _id_key(ident: str, *, uuid_key: str, url_key: str) -> str:
    """Which field of Sigma's answer an id from an embed URL is: API syntax carries
    the UUID (``workbookId``), the browser and REST ``url`` forms the urlId."""
    return uuid_key if _UUID.match(ident) else url_key


def _names(rows: Iterable[Mapping[str, Any]], *keys: str) -> set[str]:
    found = set()
    for row in rows:
        if row.get("isArchived"):
            continue
        for key in keys:
            value = row.get(key)
            if isinstance(value, str) and value:
                found.add(value)
                break
    return found


def _who(dependents: set[str]) -> str:
    listed = sorted(dependents)
    shown = ", ".join(listed[:10])
    more = len(listed) - 10
    return shown + (f" and {more} more" if more > 0 else "")


def _missing_names(
    used: dict[str, set[str]], known: set[str], *, id_: str, what: str, where: str
) -> list[Finding]:
    findings = []
    folded = {name.casefold(): name for name in known}
    for name in sorted(used):
        if name in known:
            continue
        near = folded.get(name.casefold())
        hint = (
            f"Sigma has {near!r} (names are case-sensitive): rename it in the host."
            if near
            else f"Create it in Sigma ({where}), or sync the registry from Sigma and "
            "remap what uses it."
        )
        findings.append(
            Finding(
                ERROR,
                id_,
                f"{what} {name!r} does not exist in Sigma; it breaks {_who(used[name])}.",
                hint,
                f"{what.lower()} {name!r}",
            )
        )
    return findings


class _Memo:
    """Ask Sigma once per workbook, however many embeds point into it."""

    def __init__(self, directory: SigmaDirectory) -> None:
        self.directory = directory
        self.cache: dict[tuple[str, ...], list[dict]] = {}

    def _get(self, key: tuple[str, ...], fetch: Callable[[], list[dict]]) -> list[dict]:
        if key not in self.cache:
            self.cache[key] = fetch()
        return self.cache[key]

    def pages(self, workbook_id: str, tag: str | None) -> list[dict]:
        return self._get(
            ("pages", workbook_id, tag or ""),
            lambda: self.directory.list_workbook_pages(workbook_id, tag=tag),
        )

    def elements(self, workbook_id: str, page_id: str, tag: str | None) -> list[dict]:
        return self._get(
            ("elements", workbook_id, page_id, tag or ""),
            lambda: self.directory.list_page_elements(workbook_id, page_id, tag=tag),
        )

    def grants(self, inode_id: str) -> list[dict]:
        return self._get(("grants", inode_id), lambda: self.directory.list_grants(inode_id))

    def member(self, email: str) -> dict | None:
        """The active member with this email (``listMembers?email=``), or None."""
        key = ("member", email.casefold())
        found = self._get(key, lambda: self.directory.find_members(email))
        return next(
            (
                m
                for m in found
                if str(m.get("email", "")).casefold() == email.casefold()
                and not m.get("isArchived")
            ),
            None,
        )


@dataclass(frozen=True)
class RemoteSettings:
    """Host settings the remote checks read (passed in: this module is pure)."""

    oauth_token_provider: bool = False  # SIGMA_OAUTH_TOKEN_PROVIDER is set


def find_remote_problems(
    *,
    directory: SigmaDirectory,
    usage: ConfigUsage,
    host: RemoteSettings | None = None,
) -> list[Finding]:
    """Every mismatch between ``usage`` and the Sigma organization behind ``directory``.

    Findings (ids): a team (R001), account type (R002) or user attribute (R003)
    the host uses that Sigma does not have; an embed path that resolves to no
    workbook, page, element or data model (R004); content none of the embed's
    teams can reach (R005, warning); a credential owner who is not a Sigma member
    (R006) or whose Admin status does not match the host's setting (R007 error when
    the host says Admin and Sigma does not, warning the other way round); a host
    user whose Sigma email belongs to an internal Sigma member while mapped as an
    embed user (R008); an ``eval_connection_id`` that names no connection (R009);
    an API credential whose owner is not an Admin, so Sigma shows it only what its
    owner can see (R011, warning); a connection that uses OAuth while the host has
    no ``SIGMA_OAUTH_TOKEN_PROVIDER`` (R012, warning); a host user mapped internal
    whose email is not an internal member (R010).
    """
    host = host or RemoteSettings()
    memo = _Memo(directory)
    findings: list[Finding] = []
    api_admin = _api_owner_is_admin(directory)
    if not api_admin:
        findings.append(_not_admin_finding())
    teams = directory.list_teams()
    team_names = _names(teams, "name")
    team_ids = {t.get("teamId"): t.get("name") for t in teams if not t.get("isArchived")}
    findings += _missing_names(
        usage.teams, team_names, id_="embeds.R001", what="Team", where="Administration > Teams"
    )
    if usage.account_types:
        try:
            account_types = directory.list_account_types()
        except SigmaAPIError:
            # Sigma answers listAccountTypes to Admins only; R011 already says so.
            if api_admin:
                raise
        else:
            findings += _missing_names(
                usage.account_types,
                _names(account_types, "accountTypeName", "name"),
                id_="embeds.R002",
                what="Account type",
                where="Administration > Account types",
            )
    findings += _missing_names(
        usage.attributes,
        _names(directory.list_user_attributes(), "name"),
        id_="embeds.R003",
        what="User attribute",
        where="Administration > User attributes",
    )
    findings += _content_findings(directory, memo, usage, team_ids, skip=api_admin)
    findings += _owner_findings(usage, memo)
    findings += _internal_member_findings(usage, memo)
    findings += _not_a_member_findings(usage, memo)
    findings += _connection_findings(directory, usage, host)
    return findings


def _api_owner_is_admin(directory: SigmaDirectory) -> bool:
    """Whether the API credential's owner is an Admin (``whoami`` then ``getMember``)."""
    user_id = directory.whoami().get("userId")
    if not isinstance(user_id, str) or not user_id:
        return False
    return str(directory.get_member(user_id).get("memberType", "")).casefold() == "admin"


def _not_admin_finding() -> Finding:
    return Finding(
        WARNING,
        "embeds.R011",
        "The REST API credential is not owned by a Sigma Admin: Sigma answers it only "
        "what its owner can see (workbooks and data models shared with them; no "
        "account types), so content and account types may be reported missing "
        "(R004, R002) that exist.",
        "Create the REST API client credentials as a member with the Admin account "
        "type (Administration > Developer Access), then replace the host's credential.",
        "REST API credential",
    )


def _content_findings(
    directory: SigmaDirectory,
    memo: _Memo,
    usage: ConfigUsage,
    team_ids: dict[Any, Any],
    *,
    skip: bool,
) -> list[Finding]:
    # Each listing is asked for once, and only when an embed needs it.
    listings = _Listings(
        workbooks=cache(lambda: directory.list_workbooks(skip_permission_check=skip)),
        data_models=cache(lambda: directory.list_data_models(skip_permission_check=skip)),
    )
    found = (_embed_content_finding(embed, listings, memo, team_ids) for embed in usage.embeds)
    return [finding for finding in found if finding is not None]


@dataclass(frozen=True)
class _Listings:
    workbooks: Callable[[], list[dict]]
    data_models: Callable[[], list[dict]]


def _embed_content_finding(
    embed: EmbedUsage, listings: _Listings, memo: _Memo, team_ids: dict[Any, Any]
) -> Finding | None:
    """The one problem with what ``embed`` points at in Sigma, if any."""
    if embed.data_model_url_id:
        key = _id_key(embed.data_model_url_id, uuid_key="dataModelId", url_key="dataModelUrlId")
        models = listings.data_models()
        model = next((d for d in models if d.get(key) == embed.data_model_url_id), None)
        if model is None or model.get("isArchived"):
            return _unresolved(embed, "data model", embed.data_model_url_id)
        return None
    if not embed.workbook_url_id:
        return None  # Ask Sigma and similar: nothing to resolve
    key = _id_key(embed.workbook_url_id, uuid_key="workbookId", url_key="workbookUrlId")
    workbooks = listings.workbooks()
    workbook = next((w for w in workbooks if w.get(key) == embed.workbook_url_id), None)
    if workbook is None or workbook.get("isArchived"):
        return _unresolved(embed, "workbook", embed.workbook_url_id)
    workbook_id = str(workbook.get("workbookId"))
    if embed.page_id or embed.element_id:
        problem = _resolve_node(memo, workbook_id, embed)
        if problem:
            return problem
    return _sharing_finding(embed, workbook, memo, team_ids)


def _sharing_finding(
    embed: EmbedUsage, workbook: dict, memo: _Memo, team_ids: dict[Any, Any]
) -> Finding | None:
    """R005 when none of the embed's teams can reach the workbook."""
    workbook_id = str(workbook.get("workbookId"))
    # Teams Sigma does not have are R001 already; judge sharing on the others.
    known_teams = [team for team in embed.teams if team in team_ids.values()]
    if not known_teams:
        return None
    granted = {team_ids.get(g.get("teamId")) for g in memo.grants(workbook_id)}
    if granted.intersection(known_teams):
        return None
    return Finding(
        WARNING,
        "embeds.R005",
        f"None of the teams of embed {embed.slug!r} "
        f"({', '.join(embed.teams)}) can reach workbook "
        f"{workbook.get('name')!r} in Sigma: its viewers will see an error.",
        "Share the workbook with one of these teams in Sigma, or change the embed's teams.",
        f"embed {embed.slug!r}",
    )


def _resolve_node(memo: _Memo, workbook_id: str, embed: EmbedUsage) -> Finding | None:
    pages = memo.pages(workbook_id, embed.tag)
    page_ids = {p.get("pageId") for p in pages}
    if embed.page_id:
        if embed.page_id not in page_ids:
            return _unresolved(embed, "page", embed.page_id)
        return None
    for page_id in sorted(str(p) for p in page_ids if p):
        elements = memo.elements(workbook_id, page_id, embed.tag)
        if any(e.get("elementId") == embed.element_id for e in elements):
            return None
    return _unresolved(embed, "element", embed.element_id or "")


def _unresolved(embed: EmbedUsage, what: str, ident: str) -> Finding:
    return Finding(
        ERROR,
        "embeds.R004",
        f"Embed {embed.slug!r} points at {what} {ident!r}, which Sigma does not have "
        "(deleted, archived, or copied from another organization).",
        "Pick the content again in the embed's admin page, or paste its current URL.",
        f"embed {embed.slug!r}",
    )


def _owner_findings(usage: ConfigUsage, memo: _Memo) -> list[Finding]:
    findings = []
    for credential in usage.credentials:
        obj = f"credential {credential.name!r}"
        breaks = _who({f"embed {slug}" for slug in credential.embeds}) or "no embed yet"
        member = memo.member(credential.owner_email) if credential.owner_email else None
        if member is None:
            findings.append(
                Finding(
                    ERROR,
                    "embeds.R006",
                    f"The owner of credential {credential.name!r} "
                    f"({credential.owner_email or 'not set'}) is not a member of the Sigma "
                    f"organization; it breaks {breaks}.",
                    "Set the owner email to the Sigma member who created the credentials.",
                    obj,
                )
            )
            continue
        is_admin = str(member.get("memberType", "")).casefold() == "admin"
        if credential.owner_is_admin and not is_admin:
            findings.append(
                Finding(
                    ERROR,
                    "embeds.R007",
                    f"Credential {credential.name!r} is marked as owned by a Sigma Admin, but "
                    f"{credential.owner_email} is {member.get('memberType')!r} in Sigma: Sigma "
                    f"will refuse every other user; it breaks {breaks}.",
                    "Untick 'owner is a Sigma Admin', or have an Admin create the credentials.",
                    obj,
                )
            )
        elif not credential.owner_is_admin and is_admin:
            findings.append(
                Finding(
                    WARNING,
                    "embeds.R007",
                    f"Credential {credential.name!r} is owned by a Sigma Admin but the host "
                    "limits it to signing in its owner.",
                    "Tick 'owner is a Sigma Admin' if the credential should sign in any user.",
                    obj,
                )
            )
    return findings


def _internal_member_findings(usage: ConfigUsage, memo: _Memo) -> list[Finding]:
    findings = []
    for user in usage.users:
        if user.internal or not user.sigma_email:
            continue
        member = memo.member(user.sigma_email)
        if member is None:
            continue
        if str(member.get("userKind", "internal")).casefold() != "embed":
            findings.append(
                Finding(
                    ERROR,
                    "embeds.R008",
                    f"Host user {user.username!r} is signed in to Sigma as "
                    f"{user.sigma_email}, which is an internal Sigma member: the embed "
                    "would run with that member's own rights.",
                    "Give the host user another Sigma email, or mark the mapping as internal "
                    "if this really is the same person.",
                    f"user {user.username!r}",
                )
            )
    return findings


def _not_a_member_findings(usage: ConfigUsage, memo: _Memo) -> list[Finding]:
    """R010: signed as internal, but Sigma has no internal member with that email.

    An internal token carries no ``account_type``, teams or attributes; for an
    email Sigma does not know as a member, it provisions a new user at the
    *highest* account type, without row-level-security attributes (spec §1.2).
    """
    findings = []
    for user in usage.users:
        if not user.internal or not user.sigma_email:
            continue
        member = memo.member(user.sigma_email)
        if member is not None and str(member.get("userKind", "internal")).casefold() != "embed":
            continue
        findings.append(
            Finding(
                ERROR,
                "embeds.R010",
                f"Host user {user.username!r} is signed in as an internal Sigma member, "
                f"but {user.sigma_email} is not an internal member of the organization: "
                "Sigma would create a new user at the highest account type, without "
                "user attributes.",
                "Set the user's Sigma user type to Embed user (with an account type), or "
                "give them the email they have as a member in Sigma.",
                f"user {user.username!r}",
            )
        )
    return findings


def _connection_findings(
    directory: SigmaDirectory, usage: ConfigUsage, host: RemoteSettings
) -> list[Finding]:
    wanted = {e.eval_connection_id: f"embed {e.slug}" for e in usage.embeds if e.eval_connection_id}
    wanted.update(
        {u.eval_connection_id: f"user {u.username}" for u in usage.users if u.eval_connection_id}
    )
    oauth_matters = bool(usage.embeds) and not host.oauth_token_provider
    if not wanted and not oauth_matters:
        return []
    connections = [c for c in directory.list_connections() if not c.get("isArchived")]
    known = _names(connections, "connectionId")
    findings = [
        Finding(
            ERROR,
            "embeds.R009",
            f"eval_connection_id {connection!r} ({wanted[connection]}) names no Sigma connection.",
            "Pick an existing connection, or clear eval_connection_id.",
            wanted[connection],
        )
        for connection in sorted(set(wanted) - known)
    ]
    if oauth_matters:
        findings += [
            Finding(
                WARNING,
                "embeds.R012",
                f"Sigma connection {c.get('name')!r} ({c.get('connectionId')}) uses OAuth, "
                "and the host has no SIGMA_OAUTH_TOKEN_PROVIDER: embeds that read through "
                "it get no OAuth token, so Sigma cannot query it for their viewers.",
                "Set SIGMA_OAUTH_TOKEN_PROVIDER to a callable that returns the viewer's "
                "token, or make sure no embedded content uses this connection.",
                f"connection {c.get('connectionId')}",
            )
            for c in connections
            if c.get("useOauth") is True
        ]
    return findings
