"""Findings about who signs and who is signed in: the REST API credential's owner not an
Admin (R011, warning), a credential owner who is not a member (R006) or whose Admin
status the host has wrong (R007), an embed user who is an internal member (R008), an
internal user who is not (R010)."""

from __future__ import annotations

from embeds.remote.findings.base import (
    ERROR,
    WARNING,
    ConfigUsage,
    Finding,
    Memo,
    SigmaDirectory,
    who,
)


def api_owner_is_admin(directory: SigmaDirectory) -> bool:
    """Whether the API credential's owner is an Admin (``whoami`` then ``getMember``)."""
    user_id = directory.whoami().get("userId")
    if not isinstance(user_id, str) or not user_id:
        return False
    return str(directory.get_member(user_id).get("memberType", "")).casefold() == "admin"


def not_admin_finding() -> Finding:
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


def owner_findings(usage: ConfigUsage, memo: Memo) -> list[Finding]:
    findings = []
    for credential in usage.credentials:
        obj = f"credential {credential.name!r}"
        breaks = who({f"embed {slug}" for slug in credential.embeds}) or "no embed yet"
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


def internal_member_findings(usage: ConfigUsage, memo: Memo) -> list[Finding]:
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


def not_a_member_findings(usage: ConfigUsage, memo: Memo) -> list[Finding]:
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
