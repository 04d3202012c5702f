"""The ``SIGMA_*`` settings this app reads, with app-owned defaults.

A site that sets nothing gets working defaults; a value in Django's settings wins.
Every value is read at call time (never copied into a module global at import),
so ``override_settings`` and pytest-django's ``settings`` fixture work, as with
django-allauth's ``app_settings`` and django-oauth-toolkit's ``oauth2_settings``.

    from embeds.conf import sigma_settings
    sigma_settings.ALLOWED_ORIGINS   # settings.SIGMA_ALLOWED_ORIGINS or the default

Validation of environment variables stays with the host project
(``hostsite/settings.py``): this module only supplies defaults.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from embeds.protocol import constants

PREFIX = "SIGMA_"

#: Default of every setting, keyed by its name without the ``SIGMA_`` prefix.
DEFAULTS: dict[str, Any] = {
    # Origins Sigma content may come from (iframe src, CSP frame-src, postMessage).
    "ALLOWED_ORIGINS": [constants.DEFAULT_ORIGIN],
    # Lifetime of a new embed's tokens, in seconds (60 .. constants.MAX_TOKEN_TTL).
    "DEFAULT_TOKEN_TTL": 3600,
    # Lifetime of preview tokens, in seconds (the embed's own if that is shorter).
    "PREVIEW_TOKEN_TTL": 300,
    # Signed URLs per user per window: "count/seconds" or "off".
    "RATE_LIMIT": "60/60",
    # Failed sign-ins per username / per client IP per window: "count/seconds" or "off".
    "LOGIN_RATE_LIMIT": "5/900",
    "LOGIN_IP_RATE_LIMIT": "50/900",
    # Days of audit trail sigma_prune_audit keeps.
    "AUDIT_RETENTION_DAYS": 365,
    # Logins whose password is published (username -> password), e.g. a demo's:
    # check --deploy warns (embeds.W104) while any of them still signs in with it.
    # The app ships none; the host's demo fills it (hostsite/settings.py).
    "PUBLISHED_PASSWORDS": {},
    # Sigma's REST API for this organization's cloud (embeds.remote.usage), e.g.
    # https://aws-api.sigmacomputing.com; and which credential with the REST API
    # privilege to use when several have it (by name; "" = the only one).
    "API_BASE_URL": constants.DEFAULT_API_BASE_URL,
    "API_CREDENTIAL": "",
    # Dotted path to a callable ``(user) -> embeds.identity.SigmaIdentity``.
    "IDENTITY_RESOLVER": "embeds.identity.identity_from_mappings",
}


@dataclass(frozen=True)
class Rate:
    """A limit of ``count`` events per ``seconds`` (``embeds.issuing.ratelimit``)."""

    count: int
    seconds: int


def parse_rate(value: str, *, setting: str = "rate") -> Rate | None:
    """Parse "count/seconds" (both above 0) or "off" (None).

    Raises ``ImproperlyConfigured`` naming ``setting`` and never echoing the value.
    The one parser: ``hostsite/settings.py`` validates environment variables with it.
    """
    text = (value or "").strip().lower()
    if text == "off":
        return None
    count, slash, seconds = text.partition("/")
    if slash and count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0:
        return Rate(int(count), int(seconds))
    raise ImproperlyConfigured(
        f"Setting {setting} is not a rate. Use count/seconds with both above 0, e.g. 60/60, or off."
    )


# The issuing path reads these settings several times per request; the setting is
# read every time (so an override applies at once), its parsing is done once per value.
@functools.lru_cache(maxsize=32)
def _parse_rate_once(value: str, setting: str) -> Rate | None:
    return parse_rate(value, setting=setting)


@functools.lru_cache(maxsize=32)
def _import_once(path: str) -> Any:
    return import_string(path)


class SigmaSettings:
    """Attribute access to ``SIGMA_<NAME>`` with the default from :data:`DEFAULTS`."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"{PREFIX}{name} is not a setting of the embeds app.")
        return getattr(settings, PREFIX + name, DEFAULTS[name])

    def rate(self, name: str) -> Rate | None:
        """The parsed rate setting ``SIGMA_<name>``; None when it is "off"."""
        value = getattr(self, name)
        if isinstance(value, str):  # read each call; parsed once per value
            return _parse_rate_once(value, PREFIX + name)
        return parse_rate(value, setting=PREFIX + name)

    def identity_resolver(self) -> Callable[[Any], Any]:
        """The callable named by ``SIGMA_IDENTITY_RESOLVER`` (read on each call,
        imported once per dotted path)."""
        path = self.IDENTITY_RESOLVER
        try:
            resolver = _import_once(path) if isinstance(path, str) else path
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"SIGMA_IDENTITY_RESOLVER names {path!r}, which cannot be imported: {exc}"
            ) from None
        if not callable(resolver):
            raise ImproperlyConfigured(f"SIGMA_IDENTITY_RESOLVER {path!r} is not callable.")
        # (user) -> SigmaIdentity; both types live in layers above this module, so
        # the callable is typed by its shape here and by identity_for where used.
        checked: Callable[[Any], Any] = resolver
        return checked


sigma_settings = SigmaSettings()
