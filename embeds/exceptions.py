"""Refusals: every reason the host will not sign a URL, as exception classes.

Each carries a stable ``code`` (logged and recorded in the audit trail), the HTTP
status its page is served with, and a user message that says what is wrong and who
can fix it. Messages never contain a token, a secret or an exception's text.
"""

from __future__ import annotations

from http import HTTPStatus


class Refusal(Exception):
    code = "refused"
    status = HTTPStatus.FORBIDDEN
    title = "This content is not available"
    message = "You cannot open this content."
    fixer = "An administrator of this site can change that."

    def __init__(self, detail: str | None = None) -> None:
        # ``detail`` is for admins (preview, commands, logs): it may name a
        # credential, an embed or a user, but never a value of a secret.
        self.detail = detail
        super().__init__(self.message if detail is None else f"{self.message} {detail}")

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.fixer}"


class CredentialInactive(Refusal):
    code = "credential_inactive"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is switched off"
    message = "The Sigma credential behind this content has been revoked."
    fixer = "An administrator can re-activate it or switch the embed to another credential."


class CredentialBroken(Refusal):
    code = "credential_broken"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is unavailable"
    message = "The Sigma credential behind this content cannot be read with this site's keys."
    fixer = (
        "An administrator must check FIELD_ENCRYPTION_KEY or enter the secret again "
        "(manage.py sigma_check explains what is wrong)."
    )


class EmbedMisconfigured(Refusal):
    code = "embed_misconfigured"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is misconfigured"
    message = "This content's Sigma address or options are not valid."
    fixer = "An administrator can correct the embed in the admin."


class EmbedDisabled(Refusal):
    code = "embed_disabled"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is switched off"
    message = "This content has been switched off."
    fixer = "An administrator can switch it on again."


class UserBlocked(Refusal):
    code = "user_blocked"
    message = "Embedded content is switched off for your account."
    fixer = "An administrator of this site can lift that."


class UserInactive(Refusal):
    # One code for every signing path (page, refresh, preview, command): the rule
    # lives in embeds.issuing.access.check_access, which all of them go through.
    code = "user_inactive"
    message = "This account is deactivated, so no content can be opened for it."
    fixer = "An administrator of this site can re-activate the account."


class OwnerMismatch(Refusal):
    code = "owner_mismatch"
    message = (
        "The Sigma credential behind this content belongs to a user who is not a "
        "Sigma Admin, so it can only sign in its owner."
    )
    fixer = "An administrator can use a credential owned by a Sigma Admin."


class NoTeam(Refusal):
    code = "no_team"
    message = "You are not in a team that may view this content."
    fixer = "An administrator of this site can add you to one."


class NoEmail(Refusal):
    code = "no_email"
    message = "Your account has no email address that Sigma accepts."
    fixer = "An administrator can set a Sigma email for you (no spaces or underscores)."


class NoAccountType(Refusal):
    code = "no_account_type"
    message = "Your account has no Sigma account type."
    fixer = "An administrator can set one on your account or your group."


class AmbiguousAccountType(Refusal):
    code = "ambiguous_account_type"
    message = "Your groups give you different Sigma account types."
    fixer = "An administrator can set one account type on your own account."


class AmbiguousConnection(Refusal):
    code = "ambiguous_connection"
    message = "Your groups give you different Sigma connections."
    fixer = "An administrator can set one eval_connection_id on your own account."


class IdentityConflict(Refusal):
    # Sigma signs in whoever the sub email names: a second host user with that
    # email (or a credential owner's) would act as that person, with their rights.
    code = "identity_conflict"
    message = (
        "Your Sigma email is also the Sigma identity of someone else, so this site "
        "will not sign you in with it."
    )
    fixer = (
        "An administrator of this site can give your account its own Sigma email "
        "(manage.py sigma_check lists every such conflict)."
    )


class OAuthUnavailable(Refusal):
    code = "oauth_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is misconfigured"
    message = "This site could not provide your data connection's sign-in token."
    fixer = "An administrator must check SIGMA_OAUTH_TOKEN_PROVIDER."


class PreviewOfMember(Refusal):
    # Security: Sigma signs in an existing member as themselves, with their own
    # rights (spec: "If it matches an existing Sigma member, that internal user is
    # signed in with their own account"). A preview URL is loaded by the previewer's
    # browser, so it would hand the previewer that member's Sigma session.
    code = "preview_member"
    title = "This user cannot be previewed"
    message = (
        "This user is signed in to Sigma as an existing member of the organization "
        "(internal, or the credential owner), so a preview would open their own Sigma "
        "account for you."
    )
    fixer = (
        "Preview an embed user instead; only the user themselves can open content "
        "as a Sigma member."
    )


class RateLimited(Refusal):
    code = "rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS
    title = "Too many requests"
    message = "Too many pieces of content were opened in a short time."
    fixer = "Wait a minute and try again."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(detail)


class ChangedWhileSigning(Refusal):
    """The credential or embed changed between the checks and the audit insert,
    twice in a row (embeds.services.issue_embed_url reads afresh once)."""

    code = "changed_while_signing"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Embedded content is changing"
    message = "This content's settings changed while it was being opened."
    fixer = "Reload the page; if it is refused again, an administrator has switched it off."


ALL_REFUSALS: tuple[type[Refusal], ...] = (
    CredentialInactive,
    CredentialBroken,
    EmbedMisconfigured,
    EmbedDisabled,
    UserBlocked,
    UserInactive,
    OwnerMismatch,
    NoTeam,
    NoEmail,
    NoAccountType,
    AmbiguousAccountType,
    AmbiguousConnection,
    IdentityConflict,
    OAuthUnavailable,
    PreviewOfMember,
    RateLimited,
    ChangedWhileSigning,
)
