"""System checks for the Sigma configuration (ids embeds.E0xx / embeds.W0xx).

Messages name a setting, a credential or an embed, never a value of a secret.
Settings checks always run. Checks that read the database are tagged ``database``
and return nothing unless ``databases`` is given, as Django's own
``core/checks/database.py`` does: ``manage.py check --database default``,
``migrate`` and ``manage.py sigma_check`` run them; a database without our
tables (before the first ``migrate``) yields no finding.

Ids (the emulator and key checks are in ``embeds.checks.security``, E1xx/W1xx):
  E001 SIGMA_ALLOWED_ORIGINS has an http origin while DEBUG is off
  E003 SIGMA_ALLOWED_ORIGINS is empty
  E010 a credential's secret does not decrypt with FIELD_ENCRYPTION_KEY
  E011 a credential decrypts to a value that cannot be a Sigma secret
  W010 a credential's secret is encrypted with an older key (run sigma_reencrypt)
  E020 an enabled embed's Sigma URL is not valid
  W020 an enabled embed uses a revoked credential
  E021 an enabled embed's token lifetime is outside 60 s .. 30 days
  W021 an enabled embed has no team, so nobody can view it
  W022 a team an enabled embed needs has no member path
  E022 a non-Admin-owned credential signs an embed that other users view
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections
from django.db.models import Q

from embeds.conf import sigma_settings
from embeds.encryption import KeyStatus, configured_keys, key_status, stored_ciphertexts
from embeds.exceptions import CredentialBroken
from embeds.models import (
    Credential,
    Embed,
    GroupMapping,
    SigmaProfile,
    Team,
    validate_embed_secret,
)
from embeds.protocol import constants
from embeds.validators import parse_sigma_url

MIN_TTL = constants.MIN_TOKEN_TTL
MAX_TTL = constants.MAX_TOKEN_TTL  # Sigma's limit for exp - iat (spec §1.2)

_Rows = TypeVar("_Rows")


class SigmaCheck(Protocol):
    """A registered check, as Django and ``sigma_check`` call it."""

    def __call__(
        self,
        *,
        app_configs: Sequence[AppConfig] | None = None,
        databases: Sequence[str] | None = None,
    ) -> Iterable[checks.CheckMessage]: ...


@checks.register(checks.Tags.security)
def check_sigma_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if not settings.DEBUG:
        for origin in sigma_settings.ALLOWED_ORIGINS:
            if urlsplit(origin).scheme != "https":
                messages.append(
                    checks.Error(
                        "SIGMA_ALLOWED_ORIGINS lists a non-https origin while DEBUG is off.",
                        hint="Only the local emulator uses http; list https origins in production.",
                        id="embeds.E001",
                    )
                )
                break
    if not sigma_settings.ALLOWED_ORIGINS:
        messages.append(
            checks.Error(
                "SIGMA_ALLOWED_ORIGINS is empty, so no embed URL can be valid.",
                hint="Set SIGMA_ALLOWED_ORIGINS=https://app.sigmacomputing.com (or your "
                "Sigma origin).",
                id="embeds.E003",
            )
        )
    return messages


def _tables_ready(alias: str) -> bool:
    """True once our tables exist (the check also runs before the first migrate)."""
    needed = {m._meta.db_table for m in (Credential, Embed, Team, SigmaProfile, GroupMapping)}
    try:
        return needed <= set(connections[alias].introspection.table_names())
    except DatabaseError:
        return False


def _database_aliases(databases: Sequence[str] | None) -> list[str]:
    if not databases:
        return []
    return [alias for alias in databases if _tables_ready(alias)]


def database_check(
    read: Callable[[str], _Rows],
) -> Callable[[Callable[[str, _Rows], Iterable[checks.CheckMessage]]], SigmaCheck]:
    """Register ``report(alias, rows)`` as a check tagged ``database``.

    The check reads ``rows = read(alias)`` from each database it is given whose
    tables exist and reports on them; without ``databases`` it reports nothing. A
    database whose read fails is skipped, e.g. one where a migration adding a column
    is not applied yet: the checks also run inside ``migrate``.
    """

    def register(report: Callable[[str, _Rows], Iterable[checks.CheckMessage]]) -> SigmaCheck:
        def check(
            *,
            app_configs: Sequence[AppConfig] | None = None,
            databases: Sequence[str] | None = None,
            **kwargs: object,
        ) -> list[checks.CheckMessage]:
            messages: list[checks.CheckMessage] = []
            for alias in _database_aliases(databases):
                try:
                    rows = read(alias)
                except DatabaseError:
                    continue
                messages.extend(report(alias, rows))
            return messages

        # The report's name and docstring, but not functools.wraps: Django inspects
        # the signature, which would then be the report's (no **kwargs), and refuse it.
        check.__name__, check.__qualname__ = report.__name__, report.__qualname__
        check.__doc__ = report.__doc__
        checks.register(check, checks.Tags.database)
        return check

    return register


def _credentials_and_ciphertexts(alias: str) -> tuple[list[Credential], dict[int, str]]:
    return (
        list(Credential.objects.using(alias).order_by("name")),
        stored_ciphertexts(Credential.objects.using(alias)),
    )


@database_check(_credentials_and_ciphertexts)
def check_sigma_credentials(
    alias: str, rows: tuple[list[Credential], dict[int, str]]
) -> Iterator[checks.CheckMessage]:
    """Every credential decrypts, with the first key, to a plausible secret."""
    credentials, tokens = rows
    keys = configured_keys()
    for credential in credentials:
        try:
            value = credential.signing_secret()
        except CredentialBroken:
            yield checks.Error(
                f"Credential {credential.name!r} does not decrypt with FIELD_ENCRYPTION_KEY.",
                hint="Put back the key that encrypted it (FIELD_ENCRYPTION_KEY "
                "lists keys newest first), or enter the secret again with "
                f"`manage.py sigma_credentials rotate {credential.name!r}`.",
                obj=credential,
                id="embeds.E010",
            )
            continue
        try:
            validate_embed_secret(value)
        except ValidationError:
            yield checks.Error(
                f"Credential {credential.name!r} holds a value that cannot be a "
                "Sigma embed secret (empty, padded, too short or too long).",
                hint="Enter the secret Sigma showed with `manage.py "
                f"sigma_credentials rotate {credential.name!r}`.",
                obj=credential,
                id="embeds.E011",
            )
            continue
        if key_status(tokens.get(credential.pk, ""), keys) is KeyStatus.OLD_KEY:
            yield checks.Warning(
                f"Credential {credential.name!r} is encrypted with an older key of "
                "FIELD_ENCRYPTION_KEY.",
                hint="Run `manage.py sigma_reencrypt` before removing old keys.",
                obj=credential,
                id="embeds.W010",
            )


def _viewer_emails(alias: str, team_ids: set[int]) -> set[str]:
    """Sigma emails (casefolded) of every user with a path to one of ``team_ids``."""
    User = get_user_model()
    users = User._default_manager.using(alias).filter(
        pk__in=SigmaProfile.objects.using(alias).filter(teams__in=team_ids).values("user_id")
    ) | User._default_manager.using(alias).filter(
        groups__in=GroupMapping.objects.using(alias).filter(teams__in=team_ids).values("group_id")
    )
    profiles = dict(SigmaProfile.objects.using(alias).values_list("user_id", "sigma_email"))
    emails: set[str] = set()
    for pk, email in users.distinct().values_list("pk", "email"):
        emails.add((profiles.get(pk) or email or "").casefold())
    return emails


def _team_has_members(alias: str, team: Team) -> bool:
    if SigmaProfile.objects.using(alias).filter(teams=team).exists():
        return True
    return GroupMapping.objects.using(alias).filter(teams=team, group__user__isnull=False).exists()


def _enabled_embeds(alias: str) -> list[Embed]:
    return list(
        Embed.objects.using(alias)
        .filter(is_enabled=True)
        .select_related("credential")
        .prefetch_related("teams")
        .order_by("slug")
    )


@database_check(_enabled_embeds)
def check_sigma_embeds(alias: str, embeds: list[Embed]) -> Iterator[checks.CheckMessage]:
    """Every enabled embed is valid, uses an active credential and has viewers."""
    reported_teams: set[int] = set()
    for embed in embeds:
        teams = list(embed.teams.all())
        yield from _embed_url_problems(embed)
        yield from _embed_credential_problems(embed)
        yield from _embed_lifetime_problems(embed)
        yield from _embed_team_problems(alias, embed, teams, reported_teams)
        yield from _embed_owner_problems(alias, embed, teams)


def _embed_url_problems(embed: Embed) -> list[checks.CheckMessage]:
    """E020: the stored URL no longer passes the spec's rules (or the allowed origins)."""
    try:
        parse_sigma_url(embed.url)
    except ValidationError as exc:
        return [
            checks.Error(
                f"Embed {embed.slug!r} has an invalid Sigma URL: {exc.messages[0]}",
                hint="Correct the URL in the admin or in the sigma_config file.",
                obj=embed,
                id="embeds.E020",
            )
        ]
    return []


def _embed_credential_problems(embed: Embed) -> list[checks.CheckMessage]:
    """W020: an enabled embed signs with a revoked credential."""
    credential = embed.credential
    if credential.is_active:
        return []
    return [
        checks.Warning(
            f"Embed {embed.slug!r} uses the revoked credential "
            f"{credential.name!r}, so every view of it is refused.",
            hint="Switch the embed to an active credential, disable it, or "
            "re-activate the credential (`manage.py sigma_credentials "
            "activate`).",
            obj=embed,
            id="embeds.W020",
        )
    ]


def _embed_lifetime_problems(embed: Embed) -> list[checks.CheckMessage]:
    """E021: the token lifetime is outside what Sigma (and the host) accept."""
    if MIN_TTL <= embed.token_ttl <= MAX_TTL:
        return []
    return [
        checks.Error(
            f"Embed {embed.slug!r} has a token lifetime of {embed.token_ttl} s, "
            f"outside {MIN_TTL} to {MAX_TTL} (Sigma's limit is 30 days).",
            hint=f"Set a lifetime between {MIN_TTL} and {MAX_TTL} seconds.",
            obj=embed,
            id="embeds.E021",
        )
    ]


def _embed_team_problems(
    alias: str, embed: Embed, teams: list[Team], reported_teams: set[int]
) -> list[checks.CheckMessage]:
    """W021: no team; W022: a team nobody belongs to (each team reported once)."""
    if not teams:
        return [
            checks.Warning(
                f"Embed {embed.slug!r} has no team, so nobody can view it.",
                hint="Give it at least one team.",
                obj=embed,
                id="embeds.W021",
            )
        ]
    messages: list[checks.CheckMessage] = []
    for team in teams:
        if team.pk in reported_teams or _team_has_members(alias, team):
            continue
        reported_teams.add(team.pk)
        messages.append(
            checks.Warning(
                f"Team {team.name!r}, needed by embed {embed.slug!r}, has no "
                "members: no user mapping and no group with members maps to it.",
                hint="Add the team to a user's or a group's Sigma mapping.",
                obj=team,
                id="embeds.W022",
            )
        )
    return messages


def _embed_owner_problems(alias: str, embed: Embed, teams: list[Team]) -> list[checks.CheckMessage]:
    """E022: Sigma's own rule, non-Admin credentials sign in only their owner."""
    credential = embed.credential
    if credential.owner_is_admin or not teams:
        return []
    owner = (credential.owner_email or "").casefold()
    others = _viewer_emails(alias, {t.pk for t in teams}) - {owner}
    if not others:
        return []
    return [
        checks.Error(
            f"Credential {credential.name!r} is not owned by a Sigma Admin "
            f"but signs embed {embed.slug!r}, which {len(others)} other "
            "user(s) can view; Sigma signs in only the owner with it.",
            hint="Use credentials owned by a Sigma Admin for this embed, "
            "or limit its teams to the owner.",
            obj=embed,
            id="embeds.E022",
        )
    ]


# (username, email, the mapping's Sigma email, the mapping's internal choice); the
# last two are None for a user mapped through a group only.
_IdentityRow = tuple[str, str, str | None, str | None]


def _identities_and_owners(alias: str) -> tuple[list[_IdentityRow], dict[str, str]]:
    """Every active mapped user's identity row, and the active credentials' owner
    emails (casefolded) with the credential's name."""
    User = get_user_model()
    rows: list[_IdentityRow] = list(
        User._default_manager.using(alias)
        .filter(is_active=True)
        .filter(Q(sigma_profile__isnull=False) | Q(groups__sigma_mapping__isnull=False))
        .values_list(
            User.USERNAME_FIELD,
            "email",
            "sigma_profile__sigma_email",
            "sigma_profile__internal",
        )
        .distinct()
    )
    owners = {
        (email or "").strip().casefold(): name
        for name, email in Credential.objects.using(alias)
        .filter(is_active=True)
        .values_list("name", "owner_email")
    }
    return rows, owners


@database_check(_identities_and_owners)
def check_sigma_email_conflicts(
    alias: str, rows: tuple[list[_IdentityRow], dict[str, str]]
) -> Iterator[checks.CheckMessage]:
    """E030: two active mapped users with one Sigma identity (they act as one user).
    E031: a user with a credential owner's email whose own mapping is not internal."""
    identities, owners = rows
    users_by_email: dict[str, set[str]] = defaultdict(set)
    for username, email, sigma_email, own_internal in identities:
        identity = (sigma_email or email or "").strip().casefold()
        if identity:
            users_by_email[identity].add(username)
        if identity and identity in owners and own_internal != SigmaProfile.Internal.INTERNAL:
            yield checks.Error(
                f"User {username} has the Sigma email of the owner of credential "
                f"{owners[identity]} but is not mapped as that internal member: "
                "Sigma would sign them in as the owner; every signing is refused "
                "(identity_conflict).",
                hint="Give the user their own Sigma email, or, if they are the "
                "owner, mark their own Sigma mapping internal. See docs/security.md.",
                id="embeds.E031",
            )
    for identity, names in sorted(users_by_email.items()):
        if len(names) > 1:
            yield checks.Error(
                f"Sigma email {identity} is the identity of {len(names)} active "
                f"users ({', '.join(sorted(names))}): Sigma sees one user, with "
                "one set of rights and saved work.",
                hint="Give each user their own Sigma email (admin: the user's "
                "Sigma mapping, or sigma_config). See docs/security.md.",
                id="embeds.E030",
            )


def _internal_through_groups_only(alias: str) -> list[str]:
    """Usernames of active users internal through a group while their own mapping
    inherits (or they have none)."""
    User = get_user_model()
    return sorted(
        User._default_manager.using(alias)
        .filter(is_active=True, groups__sigma_mapping__internal=True)
        .filter(
            Q(sigma_profile__isnull=True) | Q(sigma_profile__internal=SigmaProfile.Internal.INHERIT)
        )
        .values_list(User.USERNAME_FIELD, flat=True)
        .distinct()
    )


@database_check(_internal_through_groups_only)
def check_internal_through_groups(alias: str, names: list[str]) -> Iterator[checks.CheckMessage]:
    """W030: an active user who is internal only because a group says so.

    Their own mapping says "inherit" (or there is none), so one group's flag makes
    them a Sigma member: their token carries no account type, teams or attributes,
    and if Sigma does not know them as a member it creates a user at the highest
    account type. Deciding it per person removes the warning.
    """
    for name in names:
        yield checks.Warning(
            f"User {name} is an internal Sigma member only through a group: their "
            "tokens carry no account type, teams or user attributes.",
            hint="Decide it for this person: set their Sigma mapping's user type to "
            "Internal (an existing Sigma member) or Embed user. See docs/security.md.",
            id="embeds.W030",
        )


def sigma_checks() -> list[SigmaCheck]:
    """Every registered check from the embeds app (this module and
    ``embeds.checks.security``), deployment checks included: what ``sigma_check`` runs."""
    return [
        check
        for check in checks.registry.registry.get_checks(include_deployment_checks=True)
        if getattr(check, "__module__", "").startswith("embeds.")
    ]
