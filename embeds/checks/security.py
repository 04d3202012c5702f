"""Security system checks (ids embeds.E1xx / embeds.W1xx): keys, dev tools, limits.

Messages name a setting or a credential, never a value. Per-credential decryption
is also checked in ``embeds.checks.config``; the check here is about the key itself: a
configured key that decrypts *none* of the stored credentials is the wrong key (or
the right one was lost), and nothing will sign until it is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import DatabaseError

from embeds import encryption
from embeds.conf import sigma_settings
from embeds.exceptions import CredentialBroken
from embeds.models import Credential

logger = logging.getLogger(__name__)

KEY_HINT = (
    "Set FIELD_ENCRYPTION_KEY to the key the secrets were encrypted with (newest "
    "first, older keys after a comma), or re-enter the secrets in the admin."
)


@checks.register(checks.Tags.security)
def check_encryption_key(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """E101: no usable key; E102: the library's crypter is not built from it."""
    try:
        usable = bool(encryption.configured_keys())
    except (ValueError, TypeError):
        usable = False
    if not usable:
        return [
            checks.Error(
                "FIELD_ENCRYPTION_KEY is missing or not a list of Fernet keys.",
                hint=KEY_HINT,
                id="embeds.E101",
            )
        ]
    # The start-up probe (embeds.encryption.probe_crypter): the library builds its
    # crypter once, at import, so a setting changed afterwards (or a replaced
    # crypter) would write secrets with a key the setting does not list.
    if not encryption.probe_crypter():
        return [
            checks.Error(
                "The field-encryption library is not using the first FIELD_ENCRYPTION_KEY.",
                hint="Restart the process after changing FIELD_ENCRYPTION_KEY; do not "
                "replace encrypted_model_fields.fields.CRYPTER at run time.",
                id="embeds.E102",
            )
        ]
    return []


@checks.register(checks.Tags.security, checks.Tags.database)
def check_key_decrypts_credentials(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: object,
) -> list[checks.CheckMessage]:
    """E103: stored credentials exist and the configured keys decrypt none of them.

    Tagged ``database`` and silent without one, like Django's own database checks,
    so ``migrate`` on an empty database is never blocked; ``migrate``,
    ``check --database default`` and ``sigma_check`` run it.
    """
    if not databases or "default" not in databases:
        return []

    names_ok: list[str] = []
    names_broken: list[str] = []
    try:
        for credential in Credential.objects.order_by("name"):
            try:
                # The field raises on a value no key decrypts; the value is dropped.
                credential.signing_secret()
            except CredentialBroken:
                names_broken.append(credential.name)
            else:
                names_ok.append(credential.name)
    except DatabaseError:  # tables not migrated yet: nothing to check
        return []
    if names_broken and not names_ok:
        shown = ", ".join(repr(n) for n in names_broken[:5])
        more = f" and {len(names_broken) - 5} more" if len(names_broken) > 5 else ""
        for name in names_broken:
            logger.error("Credential %r could not be decrypted with FIELD_ENCRYPTION_KEY", name)
        return [
            checks.Error(
                f"FIELD_ENCRYPTION_KEY decrypts none of the {len(names_broken)} stored "
                f"credential(s) ({shown}{more}): the key is wrong or the right one was lost.",
                hint=KEY_HINT,
                id="embeds.E103",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_production_safety(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """W101 emulator forced on; W102 a limit switched off; W103 per-process cache."""
    if settings.DEBUG:
        return []
    messages: list[checks.CheckMessage] = []
    # The emulator is the host project's (sigma_emulator), not the app's, so the
    # setting has no default in embeds.conf: a site without it has no emulator.
    if getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
        messages.append(
            checks.Warning(
                "The local Sigma emulator is enabled with DEBUG off (SIGMA_EMULATOR_FORCE).",
                hint="Set SIGMA_EMULATOR_ENABLED=false and SIGMA_EMULATOR_FORCE=false in "
                "production.",
                id="embeds.W101",
            )
        )
    off = [
        name
        for name in ("SIGMA_RATE_LIMIT", "SIGMA_LOGIN_RATE_LIMIT", "SIGMA_LOGIN_IP_RATE_LIMIT")
        if str(getattr(sigma_settings, name.removeprefix("SIGMA_"))).strip().lower() == "off"
    ]
    if off:
        messages.append(
            checks.Warning(
                f"{', '.join(off)} switched off with DEBUG off.",
                hint="Use a count/seconds limit such as 60/60 (README, Settings).",
                id="embeds.W102",
            )
        )
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        messages.append(
            checks.Warning(
                "The default cache is per process, so signing rate limits, cached "
                "sessions and the issuing-path cache do not hold across processes.",
                hint="Set CACHE_URL to a shared cache, e.g. redis://host:6379/0.",
                id="embeds.W103",
            )
        )
    return messages


@checks.register(checks.Tags.security, deploy=True)
def check_demo_accounts(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """W104: a login whose password is published still signs in with it.

    Which logins: ``SIGMA_PUBLISHED_PASSWORDS`` (username -> password), which the
    host's demo fills; the app itself ships no demo. Deploy-only and not tagged
    ``database``, so ``check --deploy`` runs it without ``--database``; a database
    without tables yet reports nothing.
    """
    published = sigma_settings.PUBLISHED_PASSWORDS
    if settings.DEBUG or not published:
        return []
    try:
        users = list(get_user_model()._default_manager.filter(username__in=list(published)))
    except DatabaseError:
        return []
    # Security: the password is in the README; such an account is anyone's.
    found = sorted(
        user.get_username()
        for user in users
        if user.is_active
        and user.has_usable_password()
        and user.check_password(published[user.get_username()])
    )
    if not found:
        return []
    return [
        checks.Warning(
            f"Demo accounts with the published password exist with DEBUG off: {', '.join(found)}.",
            hint="Delete them, deactivate them or set a new password "
            "(manage.py changepassword USERNAME); seed_demo is for development.",
            id="embeds.W104",
        )
    ]
