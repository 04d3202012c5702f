"""Findings about Sigma's connections: an ``eval_connection_id`` that names none (R009),
a connection that uses OAuth while the host provides no OAuth token (R012, warning)."""

from __future__ import annotations

from embeds.remote.findings.base import (
    ERROR,
    WARNING,
    ConfigUsage,
    Finding,
    RemoteSettings,
    SigmaDirectory,
    names,
)


def connection_findings(
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
    known = names(connections, "connectionId")
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
