"""Compare the host's Sigma configuration with the Sigma organization itself.

Pure: :func:`find_remote_problems` takes what the host uses (:class:`ConfigUsage`,
gathered from the database by ``embeds.remote.usage.collect_usage``) and a REST API
client, and returns findings. Each finding names what is wrong, what it breaks
(embeds, users) and how to fix it; none carries a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    kind: str  # workbook, page, element, data_model, ...
    workbook_url_id: str | None
    page_id: str | None
    element_id: str | None
    data_model_url_id: str | None
    teams: tuple[str, ...]
    eval_connection_id: str = ""


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

    def list_teams(self) -> list[dict]: ...
    def list_account_types(self) -> list[dict]: ...
    def list_user_attributes(self) -> list[dict]: ...
    def list_members(self) -> list[dict]: ...
    def list_workbooks(self) -> list[dict]: ...
    def list_workbook_pages(self, workbook_id: str) -> list[dict]: ...
    def list_page_elements(self, workbook_id: str, page_id: str) -> list[dict]: ...
    def list_workbook_grants(self, workbook_id: str) -> list[dict]: ...
    def list_data_models(self) -> list[dict]: ...
    def list_connections(self) -> list[dict]: ...


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

    def _get(self, key: tuple[str, ...], fetch) -> list[dict]:
        if key not in self.cache:
            self.cache[key] = fetch()
        return self.cache[key]

    def pages(self, workbook_id: str) -> list[dict]:
        return self._get(
            ("pages", workbook_id), lambda: self.directory.list_workbook_pages(workbook_id)
        )

    def elements(self, workbook_id: str, page_id: str) -> list[dict]:
        return self._get(
            ("elements", workbook_id, page_id),
            lambda: self.directory.list_page_elements(workbook_id, page_id),
        )

    def grants(self, workbook_id: str) -> list[dict]:
        return self._get(
            ("grants", workbook_id), lambda: self.directory.list_workbook_grants(workbook_id)
        )


def find_remote_problems(*, directory: SigmaDirectory, usage: ConfigUsage) -> list[Finding]:
    """Every mismatch between ``usage`` and the Sigma organization behind ``directory``.

    Findings (ids): a team (R001), account type (R002) or user attribute (R003)
    the host uses that Sigma does not have; an embed path that resolves to no
    workbook, page, element or data model (R004); content none of the embed's
    teams can reach (R005, warning); a credential owner who is not a Sigma member
    (R006) or whose Admin status does not match the host's setting (R007 error when
    the host says Admin and Sigma does not, warning the other way round); a host
    user whose Sigma email belongs to an internal Sigma member while mapped as an
    embed user (R008); an ``eval_connection_id`` that names no connection (R009).
    """
    findings: list[Finding] = []
    teams = directory.list_teams()
    team_names = _names(teams, "name")
    team_ids = {t.get("teamId"): t.get("name") for t in teams if not t.get("isArchived")}
    findings += _missing_names(
        usage.teams, team_names, id_="embeds.R001", what="Team", where="Administration > Teams"
    )
    findings += _missing_names(
        usage.account_types,
        _names(directory.list_account_types(), "accountTypeName", "name"),
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
    findings += _content_findings(directory, usage, team_ids)
    members = [m for m in directory.list_members() if not m.get("isArchived")]
    by_email = {str(m.get("email", "")).casefold(): m for m in members if m.get("email")}
    findings += _owner_findings(usage, by_email)
    findings += _internal_member_findings(usage, by_email)
    findings += _connection_findings(directory, usage)
    return findings


def _content_findings(
    directory: SigmaDirectory, usage: ConfigUsage, team_ids: dict[Any, Any]
) -> list[Finding]:
    findings: list[Finding] = []
    if not usage.embeds:
        return findings
    workbooks = {w.get("workbookUrlId"): w for w in directory.list_workbooks()}
    memo = _Memo(directory)
    data_models: dict[Any, dict] | None = None
    for embed in usage.embeds:
        obj = f"embed {embed.slug!r}"
        if embed.data_model_url_id:
            if data_models is None:
                data_models = {d.get("dataModelUrlId"): d for d in directory.list_data_models()}
            if embed.data_model_url_id not in data_models:
                findings.append(_unresolved(embed, "data model", embed.data_model_url_id))
            continue
        if not embed.workbook_url_id:
            continue  # Ask Sigma and similar: nothing to resolve
        workbook = workbooks.get(embed.workbook_url_id)
        if workbook is None or workbook.get("isArchived"):
            findings.append(_unresolved(embed, "workbook", embed.workbook_url_id))
            continue
        workbook_id = str(workbook.get("workbookId"))
        if embed.page_id or embed.element_id:
            problem = _resolve_node(memo, workbook_id, embed)
            if problem:
                findings.append(problem)
                continue
        # Teams Sigma does not have are R001 already; judge sharing on the others.
        known_teams = [team for team in embed.teams if team in team_ids.values()]
        if not known_teams:
            continue
        grants = memo.grants(workbook_id)
        granted = {team_ids.get(g.get("teamId")) for g in grants if g.get("teamId")}
        if not granted.intersection(known_teams):
            findings.append(
                Finding(
                    WARNING,
                    "embeds.R005",
                    f"None of the teams of embed {embed.slug!r} "
                    f"({', '.join(embed.teams)}) can reach workbook "
                    f"{workbook.get('name')!r} in Sigma: its viewers will see an error.",
                    "Share the workbook with one of these teams in Sigma, or change the "
                    "embed's teams.",
                    obj,
                )
            )
    return findings


def _resolve_node(memo: _Memo, workbook_id: str, embed: EmbedUsage):
    pages = memo.pages(workbook_id)
    page_ids = {p.get("pageId") for p in pages}
    if embed.page_id:
        if embed.page_id not in page_ids:
            return _unresolved(embed, "page", embed.page_id)
        return None
    for page_id in sorted(str(p) for p in page_ids if p):
        elements = memo.elements(workbook_id, page_id)
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


def _owner_findings(usage: ConfigUsage, by_email: dict[str, dict]) -> list[Finding]:
    findings = []
    for credential in usage.credentials:
        obj = f"credential {credential.name!r}"
        breaks = _who({f"embed {slug}" for slug in credential.embeds}) or "no embed yet"
        member = by_email.get(credential.owner_email.casefold()) if credential.owner_email else None
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


def _internal_member_findings(usage: ConfigUsage, by_email: dict[str, dict]) -> list[Finding]:
    findings = []
    for user in usage.users:
        member = by_email.get(user.sigma_email.casefold())
        if member is None or user.internal:
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


def _connection_findings(directory: SigmaDirectory, usage: ConfigUsage) -> list[Finding]:
    wanted = {e.eval_connection_id: f"embed {e.slug}" for e in usage.embeds if e.eval_connection_id}
    wanted.update(
        {u.eval_connection_id: f"user {u.username}" for u in usage.users if u.eval_connection_id}
    )
    if not wanted:
        return []
    known = _names(directory.list_connections(), "connectionId")
    return [
        Finding(
            ERROR,
            "embeds.R009",
            f"eval_connection_id {connection!r} ({wanted[connection]}) names no Sigma connection.",
            "Pick an existing connection, or clear eval_connection_id.",
            wanted[connection],
        )
        for connection in sorted(set(wanted) - known)
    ]
