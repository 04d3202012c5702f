"""Field validators that read the app's settings, by the path the migrations recorded.

Django migrations name a field's validators by dotted path (0001, 0003 and 0009
name ``embeds.validators.validate_*``), and a released migration never changes, so
this module keeps those names. The rules themselves are pure and live in
``embeds.protocol.validators``; only the allowed origins come from settings here,
read at call time so ``SIGMA_ALLOWED_ORIGINS`` overrides (and tests) apply.
"""

from __future__ import annotations

import functools

from embeds.conf import sigma_settings
from embeds.protocol import validators as protocol_validators
from embeds.protocol.validators import (
    SigmaContent,
    validate_attribute_value,
    validate_connection_id,
    validate_control_id,
    validate_control_value,
    validate_language,
    validate_sigma_email,
    validate_theme,
)

__all__ = [
    "parse_sigma_url",
    "validate_attribute_value",
    "validate_connection_id",
    "validate_control_id",
    "validate_control_value",
    "validate_language",
    "validate_sigma_email",
    "validate_sigma_url",
    "validate_theme",
]


def parse_sigma_url(url: str) -> SigmaContent:
    """:func:`embeds.protocol.validators.parse_sigma_url` against ``SIGMA_ALLOWED_ORIGINS``.

    The setting is read on each call; each (URL, origins) pair is parsed once per
    process (the issuing path reads an embed's content three times per request).
    """
    return _parse_once(url, tuple(sigma_settings.ALLOWED_ORIGINS))


@functools.lru_cache(maxsize=256)
def _parse_once(url: str, allowed_origins: tuple[str, ...]) -> SigmaContent:
    # SigmaContent is frozen; a URL that does not parse raises and is not kept.
    return protocol_validators.parse_sigma_url(url, allowed_origins=allowed_origins)


def validate_sigma_url(url: str) -> None:
    """Model-field validator form of :func:`parse_sigma_url`."""
    parse_sigma_url(url)
