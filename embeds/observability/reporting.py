"""Error reports that never show an embed secret, a derived key or a signed token.

Django's debug page and its error e-mails list every frame's local variables, the
request and the settings. Three layers keep secrets out of them:

1. ``sensitive_variables`` / ``sensitive_post_parameters`` on our own functions and
   forms that hold a secret, a token or a signed URL (names known in advance);
2. :class:`SecretSafeExceptionReporterFilter` (``DEFAULT_EXCEPTION_REPORTER_FILTER``):
   active even with ``DEBUG`` on (Django's filter switches itself off then), it
   hides any variable, dict key or POST field whose *name* looks secret in *any*
   frame (PyJWT's ``key``, hmac's ``key``, a library's ``token``), and replaces
   JWT-shaped strings and ``:jwt=`` URLs by *value* wherever they appear;
3. :class:`SecretSafeExceptionReporter` (``DEFAULT_EXCEPTION_REPORTER``): scrubs
   the parts the filter has no hook for (the exception text, the query string,
   the request URL) and, last, the whole rendered page or text.

A secret that is neither named like one nor shaped like a token cannot be found by
shape: layer 1 is what hides it, which is why every function that holds one is
decorated (see docs/security.md, T16).
"""

from __future__ import annotations

import re
from collections.abc import ItemsView
from types import FrameType
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from embeds.observability.redaction import REDACTED_JWT, redact

# Names of variables, dict keys, settings and POST fields whose values are hidden.
# Django's own list for settings, plus the words this project uses for tokens.
HIDDEN_NAMES = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|JWT|SIGNED|CREDENTIAL_VALUE",
    flags=re.IGNORECASE,
)
# Three dot-separated base64url runs long enough for a JWS (an HS256 signature is
# 43 characters; dotted Python paths never have a 40-character last part), and any
# base64url run that starts like a JSON object (a JWT header or payload on its own,
# e.g. PyJWT's signing input).
_ANY_JWS = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{40,}")
_JSON_SEGMENT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}")
SUBSTITUTE = "********************"


def scrub(text: str) -> str:
    """``text`` with every signed token, ``:jwt=`` value and JWT segment replaced."""
    text = redact(str(text))  # str(): lazy strings (settings) pass isinstance(str)
    text = _ANY_JWS.sub(REDACTED_JWT, text)
    return _JSON_SEGMENT.sub(REDACTED_JWT, text)


def _has_token(text: str) -> bool:
    return scrub(text) != text


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, always on, hiding secret-named values and token-shaped ones."""

    hidden_settings = HIDDEN_NAMES
    cleansed_substitute = SUBSTITUTE

    def is_active(self, request: HttpRequest | None) -> bool:
        # Security: Django's filter does nothing when DEBUG is on, so a debug page
        # shows every secret in scope. A leftover DEBUG must not publish the keys.
        return True

    # Values here are whatever a setting, a POST field or a frame holds: Any, as
    # Django's own filter types them.
    def cleanse_setting(self, key: int | str, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            scrubbed = scrub(cleansed)
            return cleansed if scrubbed == str(cleansed) else scrubbed
        return cleansed

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        cleansed = super().get_post_parameters(request)
        # Django answers {} without a request, else a copy of request.POST.
        if not cleansed or not isinstance(cleansed, QueryDict):
            return cleansed
        cleansed = cleansed.copy()
        for name in list(cleansed.keys()):
            if HIDDEN_NAMES.search(name):
                cleansed.setlist(name, [self.cleansed_substitute])
            else:
                cleansed.setlist(name, [scrub(str(v)) for v in cleansed.getlist(name)])
        return cleansed

    def cleanse_special_types(self, request: HttpRequest | None, value: Any) -> Any:
        value = super().cleanse_special_types(request, value)
        return self._cleanse_value(value)

    def _cleanse_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, bytes | bytearray):
            text = bytes(value).decode("utf-8", "replace")
            return self.cleansed_substitute if _has_token(text) else value
        if isinstance(value, dict | list | tuple):
            # Hides secret-named keys at any depth and scrubs string leaves.
            value = self.cleanse_setting("", value)
        try:
            shown = repr(value)
        except Exception:  # noqa: BLE001  (a broken __repr__ must not break the report)
            return value
        # An object whose repr carries a token (a URL object, an exception, a
        # dataclass) is shown as its scrubbed repr instead.
        return scrub(shown) if _has_token(shown) else value

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> ItemsView[str, Any]:
        cleansed: dict[str, Any] = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if value is not self.cleansed_substitute and HIDDEN_NAMES.search(name):
                value = self.cleansed_substitute
            cleansed[name] = value
        return cleansed.items()  # as Django's own: the frame's names, in order


class SecretSafeExceptionReporter(ExceptionReporter):
    """Django's reporter with the request line, exception text and output scrubbed."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        for key in ("exception_value", "exception_notes", "request_insecure_uri"):
            if isinstance(data.get(key), str):
                data[key] = scrub(data[key])
        if "request_GET_items" in data:
            data["request_GET_items"] = [
                (name, SUBSTITUTE if HIDDEN_NAMES.search(name) else scrub(str(value)))
                for name, value in data["request_GET_items"]
            ]
        for frame in data.get("frames", []):
            if "vars" in frame:
                frame["vars"] = [(name, scrub(str(value))) for name, value in frame["vars"]]
        return data

    # Scrubbing replaces tokens by REDACTED_JWT (plain text): the page stays the
    # safe HTML (or text) Django rendered.
    def get_traceback_html(self) -> SafeString:
        # Last line of defence: whatever a template or a repr let through.
        return mark_safe(scrub(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(scrub(super().get_traceback_text()))  # noqa: S308
