"""What the embed page and the ``{% sigma_embed %}`` tag both render.

The frame's context for ``embeds/_frame.html`` and ``embed.js`` (the signed URL,
a fresh frame name, the refresh and error-report endpoints), and the refusals for
request problems both answer (not signed in, no such embed) shaped like a
``Refusal`` so one template shows either.
"""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from embeds.conf import sigma_settings
from embeds.issuing import SignedEmbed
from embeds.models import Embed
from embeds.protocol import signing

MSG_LOGIN = "Your session on this site has ended."
MSG_LOGIN_FIXER = "Sign in again to continue."
# For a page (the tag) that a visitor may open without ever having signed in: no
# "session has ended" for someone who never had one.
MSG_NOT_SIGNED_IN = "You are not signed in to this site."
MSG_NOT_SIGNED_IN_FIXER = "Sign in to see this content."
MSG_NOT_FOUND = "This content does not exist."
MSG_NOT_FOUND_FIXER = "Go back to your analytics and open it from the list."


class InvalidEmbedRequest(Exception):
    """Request input the page or an endpoint will not act on (shaped like a Refusal)."""

    def __init__(
        self, code: str, message: str, fixer: str, *, status: int = HTTPStatus.BAD_REQUEST
    ) -> None:
        self.code = code
        self.message = message
        self.fixer = fixer
        self.status = status
        self.title = "This request cannot be used"
        self.detail = None
        super().__init__(message)

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.fixer}"


def with_options(url: str, options: list[tuple[str, str]]) -> str:
    """Append interface parameters to a signed URL (they are outside the signature)."""
    # The values matched PLACE_KEY, so encoding changes nothing; it is kept so that
    # no value could ever end or extend the query string.
    encoded = (f"&{name}={signing.encode_control_value(value)}" for name, value in options)
    return url + "".join(encoded)


def embed_frame(
    request: HttpRequest,
    embed: Embed,
    signed: SignedEmbed,
    *,
    frame_id: str = "sigma-embed",
    place: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """What ``embeds/_frame.html`` and ``embed.js`` need to mount and re-mount.

    ``place`` (from ``place_options``) is appended to the signed URL, after signing.
    """
    return {
        "id": frame_id,
        "src": with_options(signed.url, place or []),
        # A fresh frame name per render: the browser can never match it to a
        # session-history entry holding an earlier (spent) URL.
        "name": f"sigma-{secrets.token_hex(8)}",
        "expires_in": signed.claims["exp"] - signed.claims["iat"],
        "allowed_origins": json.dumps(list(sigma_settings.ALLOWED_ORIGINS)),
        "refresh_url": reverse("embeds:refresh", kwargs={"slug": embed.slug}),
        "error_report_url": reverse("embeds:error_report", kwargs={"slug": embed.slug}),
    }
