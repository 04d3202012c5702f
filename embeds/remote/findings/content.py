"""Findings about what the embeds point at: content Sigma does not have (R004) and a
workbook none of the embed's teams can reach (R005, warning)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from embeds.remote.client import SigmaObject
from embeds.remote.findings.base import (
    ERROR,
    WARNING,
    ConfigUsage,
    EmbedUsage,
    Finding,
    Memo,
    SigmaDirectory,
)

#: A Sigma workbookId or dataModelId (API syntax); a urlId is 16 to 32 alphanumerics.
_UUID = re.compile(r"^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\Z")


def _id_key(ident: str, *, uuid_key: str, url_key: str) -> str:
    """Which field of Sigma's answer an id from an embed URL is: API syntax carries
    the UUID (``workbookId``), the browser and REST ``url`` forms the urlId."""
    return uuid_key if _UUID.match(ident) else url_key


@dataclass(frozen=True)
class _Listings:
    workbooks: Callable[[], list[SigmaObject]]
    data_models: Callable[[], list[SigmaObject]]


def content_findings(
    directory: SigmaDirectory,
    memo: Memo,
    usage: ConfigUsage,
    team_ids: dict[object, object],
    *,
    skip: bool,
) -> list[Finding]:
    """R004 and R005 for every embed; ``team_ids`` maps Sigma's team ids to names."""
    # Each listing is asked for once, and only when an embed needs it.
    listings = _Listings(
        workbooks=cache(lambda: directory.list_workbooks(skip_permission_check=skip)),
        data_models=cache(lambda: directory.list_data_models(skip_permission_check=skip)),
    )
    found = (_embed_content_finding(embed, listings, memo, team_ids) for embed in usage.embeds)
    return [finding for finding in found if finding is not None]


def _embed_content_finding(
    embed: EmbedUsage, listings: _Listings, memo: Memo, team_ids: dict[object, object]
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
    embed: EmbedUsage, workbook: SigmaObject, memo: Memo, team_ids: dict[object, object]
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


def _resolve_node(memo: Memo, workbook_id: str, embed: EmbedUsage) -> Finding | None:
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
