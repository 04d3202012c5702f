"""System checks for the Sigma configuration (ids embeds.E0xx / embeds.W0xx).

Messages name a setting or a credential, never a value.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_sigma_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if not settings.DEBUG:
        for origin in settings.SIGMA_ALLOWED_ORIGINS:
            if urlsplit(origin).scheme != "https":
                messages.append(
                    checks.Error(
                        "SIGMA_ALLOWED_ORIGINS lists a non-https origin while DEBUG is off.",
                        hint="Only the local emulator uses http; list https origins in production.",
                        id="embeds.E001",
                    )
                )
                break
    return messages
