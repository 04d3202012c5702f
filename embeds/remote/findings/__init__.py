"""Compare the host's Sigma configuration with the Sigma organization itself.

Pure: :func:`find_remote_problems` takes what the host uses (:class:`ConfigUsage`,
gathered from the database by ``embeds.remote.usage.collect_usage``) and a REST API
client, and returns findings. Each finding names what is wrong, what it breaks
(embeds, users) and how to fix it; none carries a secret.

One module per family of findings: ``registry`` (names), ``content`` (what the embeds
point at), ``members`` (who signs, who is signed in), ``connections``; ``base`` holds
what they share.
"""

from __future__ import annotations

from embeds.remote.findings.base import (
    ERROR,
    WARNING,
    ConfigUsage,
    CredentialUsage,
    EmbedUsage,
    Finding,
    Memo,
    RemoteSettings,
    SigmaDirectory,
    UserUsage,
)
from embeds.remote.findings.connections import connection_findings
from embeds.remote.findings.content import content_findings
from embeds.remote.findings.members import (
    api_owner_is_admin,
    internal_member_findings,
    not_a_member_findings,
    not_admin_finding,
    owner_findings,
)
from embeds.remote.findings.registry import registry_findings

__all__ = [
    "ERROR",
    "WARNING",
    "ConfigUsage",
    "CredentialUsage",
    "EmbedUsage",
    "Finding",
    "RemoteSettings",
    "SigmaDirectory",
    "UserUsage",
    "find_remote_problems",
]


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
    memo = Memo(directory)
    findings: list[Finding] = []
    api_admin = api_owner_is_admin(directory)
    if not api_admin:
        findings.append(not_admin_finding())
    teams = directory.list_teams()
    team_ids = {t.get("teamId"): t.get("name") for t in teams if not t.get("isArchived")}
    findings += registry_findings(directory, usage, teams, api_admin=api_admin)
    findings += content_findings(directory, memo, usage, team_ids, skip=api_admin)
    findings += owner_findings(usage, memo)
    findings += internal_member_findings(usage, memo)
    findings += not_a_member_findings(usage, memo)
    findings += connection_findings(directory, usage, host)
    return findings
