"""Findings about the names the host uses: a team (R001), account type (R002) or user
attribute (R003) that Sigma does not have."""

from __future__ import annotations

from embeds.remote.client import SigmaAPIError, SigmaObject
from embeds.remote.findings.base import (
    ERROR,
    ConfigUsage,
    Finding,
    SigmaDirectory,
    names,
    who,
)


def registry_findings(
    directory: SigmaDirectory,
    usage: ConfigUsage,
    teams: list[SigmaObject],
    *,
    api_admin: bool,
) -> list[Finding]:
    """R001 for ``teams`` (already listed: the content findings need them too), then
    R002 and R003, asking Sigma only for what the host uses."""
    findings = missing_names(
        usage.teams,
        names(teams, "name"),
        id_="embeds.R001",
        what="Team",
        where="Administration > Teams",
    )
    if usage.account_types:
        try:
            account_types = directory.list_account_types()
        except SigmaAPIError:
            # Sigma answers listAccountTypes to Admins only; R011 already says so.
            if api_admin:
                raise
        else:
            findings += missing_names(
                usage.account_types,
                names(account_types, "accountTypeName", "name"),
                id_="embeds.R002",
                what="Account type",
                where="Administration > Account types",
            )
    findings += missing_names(
        usage.attributes,
        names(directory.list_user_attributes(), "name"),
        id_="embeds.R003",
        what="User attribute",
        where="Administration > User attributes",
    )
    return findings


def missing_names(
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
                f"{what} {name!r} does not exist in Sigma; it breaks {who(used[name])}.",
                hint,
                f"{what.lower()} {name!r}",
            )
        )
    return findings
