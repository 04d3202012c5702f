"""What every family of remote findings shares: the finding itself, what the host uses
(gathered by ``embeds.remote.usage.collect_usage``), the questions asked of Sigma, and
the memo that asks each of them once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from embeds.remote.client import SigmaObject

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


@dataclass(frozen=True)
class RemoteSettings:
    """Host settings the remote checks read (passed in: the findings are pure)."""

    oauth_token_provider: bool = False  # SIGMA_OAUTH_TOKEN_PROVIDER is set


class SigmaDirectory(Protocol):
    """What the checks ask Sigma (``embeds.remote.client.SigmaAPIClient`` answers it)."""

    def whoami(self) -> SigmaObject: ...
    def get_member(self, member_id: str) -> SigmaObject: ...
    def list_teams(self) -> list[SigmaObject]: ...
    def list_account_types(self) -> list[SigmaObject]: ...
    def list_user_attributes(self) -> list[SigmaObject]: ...
    def find_members(self, email: str) -> list[SigmaObject]: ...
    def list_workbooks(self, *, skip_permission_check: bool = False) -> list[SigmaObject]: ...
    def list_workbook_pages(
        self, workbook_id: str, *, tag: str | None = None
    ) -> list[SigmaObject]: ...
    def list_page_elements(
        self, workbook_id: str, page_id: str, *, tag: str | None = None
    ) -> list[SigmaObject]: ...
    def list_grants(self, inode_id: str) -> list[SigmaObject]: ...
    def list_data_models(self, *, skip_permission_check: bool = False) -> list[SigmaObject]: ...
    def list_connections(self) -> list[SigmaObject]: ...


class Memo:
    """Ask Sigma once per workbook, however many embeds point into it."""

    def __init__(self, directory: SigmaDirectory) -> None:
        self.directory = directory
        self.cache: dict[tuple[str, ...], list[SigmaObject]] = {}

    def _get(
        self, key: tuple[str, ...], fetch: Callable[[], list[SigmaObject]]
    ) -> list[SigmaObject]:
        if key not in self.cache:
            self.cache[key] = fetch()
        return self.cache[key]

    def pages(self, workbook_id: str, tag: str | None) -> list[SigmaObject]:
        return self._get(
            ("pages", workbook_id, tag or ""),
            lambda: self.directory.list_workbook_pages(workbook_id, tag=tag),
        )

    def elements(self, workbook_id: str, page_id: str, tag: str | None) -> list[SigmaObject]:
        return self._get(
            ("elements", workbook_id, page_id, tag or ""),
            lambda: self.directory.list_page_elements(workbook_id, page_id, tag=tag),
        )

    def grants(self, inode_id: str) -> list[SigmaObject]:
        return self._get(("grants", inode_id), lambda: self.directory.list_grants(inode_id))

    def member(self, email: str) -> SigmaObject | None:
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


def names(rows: Iterable[Mapping[str, Any]], *keys: str) -> set[str]:
    """The first non-empty ``keys`` value of each row Sigma has not archived."""
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


def who(dependents: set[str]) -> str:
    """``dependents`` for a message: the first ten, sorted, and how many more."""
    listed = sorted(dependents)
    shown = ", ".join(listed[:10])
    more = len(listed) - 10
    return shown + (f" and {more} more" if more > 0 else "")
