"""Refusals: every reason the host will not sign a URL, as exception classes.

Each carries a stable ``code`` (logged and recorded in the audit trail), the HTTP
status its page is served with, and a user message that says what is wrong and who
can fix it. Messages never contain a token, a secret or an exception's text.

A refusal is declared in its class statement: ``code``, ``message`` and ``fixer``
are required keywords (``Refusal.__init_subclass__``), ``status`` and ``title`` have
the defaults of a refusal the user's own setup causes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar

# Refusals an administrator must fix on the site's side (credential, embed, setup).
UNAVAILABLE = HTTPStatus.SERVICE_UNAVAILABLE
TITLE_SWITCHED_OFF = "Embedded content is switched off"
TITLE_MISCONFIGURED = "Embedded content is misconfigured"


class Refusal(Exception):
    code: ClassVar[str] = "refused"
    status: ClassVar[HTTPStatus] = HTTPStatus.FORBIDDEN
    title: ClassVar[str] = "This content is not available"
    message: ClassVar[str] = "You cannot open this content."
    fixer: ClassVar[str] = "An administrator of this site can change that."

    def __init_subclass__(
        cls,
        *,
        code: str,
        message: str,
        fixer: str,
        status: HTTPStatus = HTTPStatus.FORBIDDEN,
        title: str = "This content is not available",
        **kwargs: object,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.code, cls.message, cls.fixer = code, message, fixer
        cls.status, cls.title = status, title

    def __init__(self, detail: str | None = None) -> None:
        # ``detail`` is for admins (preview, commands, logs): it may name a
        # credential, an embed or a user, but never a value of a secret.
        self.detail = detail
        super().__init__(self.message if detail is None else f"{self.message} {detail}")

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.fixer}"


class CredentialInactive(
    Refusal,
    code="credential_inactive",
    status=UNAVAILABLE,
    title=TITLE_SWITCHED_OFF,
    message="The Sigma credential behind this content has been revoked.",
    fixer="An administrator can re-activate it or switch the embed to another credential.",
):
    pass


class CredentialBroken(
    Refusal,
    code="credential_broken",
    status=UNAVAILABLE,
    title="Embedded content is unavailable",
    message="The Sigma credential behind this content cannot be read with this site's keys.",
    fixer=(
        "An administrator must check FIELD_ENCRYPTION_KEY or enter the secret again "
        "(manage.py sigma_check explains what is wrong)."
    ),
):
    pass


class EmbedMisconfigured(
    Refusal,
    code="embed_misconfigured",
    status=UNAVAILABLE,
    title=TITLE_MISCONFIGURED,
    message="This content's Sigma address or options are not valid.",
    fixer="An administrator can correct the embed in the admin.",
):
    pass


class EmbedDisabled(
    Refusal,
    code="embed_disabled",
    status=UNAVAILABLE,
    title=TITLE_SWITCHED_OFF,
    message="This content has been switched off.",
    fixer="An administrator can switch it on again.",
):
    pass


class UserBlocked(
    Refusal,
    code="user_blocked",
    message="Embedded content is switched off for your account.",
    fixer="An administrator of this site can lift that.",
):
    pass


# One code for every signing path (page, refresh, preview, command): the rule
# lives in embeds.issuing.access.check_access, which all of them go through.
class UserInactive(
    Refusal,
    code="user_inactive",
    message="This account is deactivated, so no content can be opened for it.",
    fixer="An administrator of this site can re-activate the account.",
):
    pass


class OwnerMismatch(
    Refusal,
    code="owner_mismatch",
    message=(
        "The Sigma credential behind this content belongs to a user who is not a "
        "Sigma Admin, so it can only sign in its owner."
    ),
    fixer="An administrator can use a credential owned by a Sigma Admin.",
):
    pass


class NoTeam(
    Refusal,
    code="no_team",
    message="You are not in a team that may view this content.",
    fixer="An administrator of this site can add you to one.",
):
    pass


class NoEmail(
    Refusal,
    code="no_email",
    message="Your account has no email address that Sigma accepts.",
    fixer="An administrator can set a Sigma email for you (no spaces or underscores).",
):
    pass


class NoAccountType(
    Refusal,
    code="no_account_type",
    message="Your account has no Sigma account type.",
    fixer="An administrator can set one on your account or your group.",
):
    pass


class AmbiguousAccountType(
    Refusal,
    code="ambiguous_account_type",
    message="Your groups give you different Sigma account types.",
    fixer="An administrator can set one account type on your own account.",
):
    pass


class AmbiguousConnection(
    Refusal,
    code="ambiguous_connection",
    message="Your groups give you different Sigma connections.",
    fixer="An administrator can set one eval_connection_id on your own account.",
):
    pass


# Sigma signs in whoever the sub email names: a second host user with that
# email (or a credential owner's) would act as that person, with their rights.
class IdentityConflict(
    Refusal,
    code="identity_conflict",
    message=(
        "Your Sigma email is also the Sigma identity of someone else, so this site "
        "will not sign you in with it."
    ),
    fixer=(
        "An administrator of this site can give your account its own Sigma email "
        "(manage.py sigma_check lists every such conflict)."
    ),
):
    pass


class OAuthUnavailable(
    Refusal,
    code="oauth_unavailable",
    status=UNAVAILABLE,
    title=TITLE_MISCONFIGURED,
    message="This site could not provide your data connection's sign-in token.",
    fixer="An administrator must check SIGMA_OAUTH_TOKEN_PROVIDER.",
):
    pass


# Security: Sigma signs in an existing member as themselves, with their own
# rights (spec: "If it matches an existing Sigma member, that internal user is
# signed in with their own account"). A preview URL is loaded by the previewer's
# browser, so it would hand the previewer that member's Sigma session.
class PreviewOfMember(
    Refusal,
    code="preview_member",
    title="This user cannot be previewed",
    message=(
        "This user is signed in to Sigma as an existing member of the organization "
        "(internal, or the credential owner), so a preview would open their own Sigma "
        "account for you."
    ),
    fixer=(
        "Preview an embed user instead; only the user themselves can open content "
        "as a Sigma member."
    ),
):
    pass


class RateLimited(
    Refusal,
    code="rate_limited",
    status=HTTPStatus.TOO_MANY_REQUESTS,
    title="Too many requests",
    message="Too many pieces of content were opened in a short time.",
    fixer="Wait a minute and try again.",
):
    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(detail)


class ChangedWhileSigning(
    Refusal,
    code="changed_while_signing",
    status=UNAVAILABLE,
    title="Embedded content is changing",
    message="This content's settings changed while it was being opened.",
    fixer="Reload the page; if it is refused again, an administrator has switched it off.",
):
    """The credential or embed changed between the checks and the audit insert,
    twice in a row (embeds.services.issue_embed_url reads afresh once)."""


# Every refusal declared above, in declaration order: embeds.issuing.snapshots maps
# a cached refusal's code back to its class through it.
ALL_REFUSALS: tuple[type[Refusal], ...] = tuple(Refusal.__subclasses__())
