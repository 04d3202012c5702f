"""Pages of the local Sigma emulator: the embedded content, or Sigma's error page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from . import content as org_content
from .directory import directory
from .models import claim_jti
from .query import ControlReading, read_query
from .services import provision_embed_user
from .verify import (
    CODE_ACCESS,
    CODE_INVALID,
    CODE_NOT_FOUND,
    MSG_INVALID_PATH,
    Content,
    VerifyResult,
    parse_content_path,
    verify_token,
)

logger = logging.getLogger(__name__)

# Sigma documents the codes (spec §8), not the wording; these are the emulator's.
MSG_NOT_SHARED = "Permission denied: this workbook is not shared with the user's teams"
MSG_UNKNOWN_ACCOUNT_TYPE = "Invalid account_type: no such account type in this organization"

DEFAULT_FRAME_ANCESTORS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def frame_ancestors() -> list[str]:
    """Host origins allowed to frame the emulator (read at call time)."""
    return list(getattr(settings, "SIGMA_EMULATOR_FRAME_ANCESTORS", DEFAULT_FRAME_ANCESTORS))


def content_security_policy(ancestors: list[str], *, form_action: str = "'none'") -> str:
    # The host's CSP middleware leaves a response alone once it carries this header.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action " + form_action,
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors " + (" ".join(ancestors) or "'none'"),
        ]
    )


def emulator_view(
    view: Callable[..., HttpResponse] | None = None,
    *,
    form_action: str = "'none'",
    framed: bool = True,
    referrer_policy: str = "no-referrer",
) -> Any:
    """Refuse when the emulator is off; set the emulator's headers on every page.

    Content pages post no forms (``form-action 'none'``) and are framed by the
    host; their URLs carry a signed token, so they send no Referer at all. The
    organization's own admin pages pass ``form_action="'self'"``,
    ``framed=False`` (nobody frames them: one of them shows a secret) and
    ``referrer_policy="same-origin"``: their URLs carry nothing secret, and under
    ``no-referrer`` Chromium posts ``Origin: null``, which Django's CSRF check
    refuses, so no form on them would work in a browser.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Defence in depth: the command refuses to start when disabled, and a
            # stray route to these views must not come alive either.
            if not getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
                raise Http404("The Sigma emulator is disabled.")
            response = view(request, *args, **kwargs)
            response["Content-Security-Policy"] = content_security_policy(
                frame_ancestors() if framed else [], form_action=form_action
            )
            # Content URLs carry a single-use token, one admin page a one-time
            # secret: never cache; content pages never leak their URL either.
            response["Cache-Control"] = "no-store"
            response["Referrer-Policy"] = referrer_policy
            return response

        if not framed:
            # XFrameOptionsMiddleware adds DENY, next to frame-ancestors 'none'.
            return wrapper
        # Framed by the host on purpose; frame-ancestors above says by whom.
        return xframe_options_exempt(wrapper)

    return decorate if view is None else decorate(view)


def current_time() -> int:
    """Epoch seconds; a hook tests override, like ``PasswordResetTokenGenerator._now``."""
    return int(timezone.now().timestamp())


def _error_page(request: HttpRequest, *, code: str, message: str, status: int) -> HttpResponse:
    """Sigma's error page; it posts ``workbook:error`` only for an error with a code.

    Sigma: "Some error messages do not return a code, but display a message to the
    user" ("Common embed error codes and messages"): those pages post nothing.
    """
    return render(
        request,
        "sigma_emulator/error.html",
        {
            "code": code,
            "message": message,
            "page_data": {
                "frameAncestors": frame_ancestors(),
                "event": {"type": "workbook:error", "code": code, "message": message},
            },
        },
        status=status,
    )


def split_query(request: HttpRequest) -> tuple[dict[str, str], dict[str, ControlReading]]:
    """Interface options (``:name``, never ``:jwt``) and control values, read from
    the raw query string the way Sigma reads them (literal commas split lists)."""
    return read_query(request.META.get("QUERY_STRING", ""))


@require_GET
@emulator_view
def content(request: HttpRequest) -> HttpResponse:
    """A Sigma workbook, page or element, shown after Sigma's token checks."""
    parsed: Content | None = parse_content_path(request.path_info)
    if parsed is None:
        logger.info("Emulator: ENOENT for path %r", request.path_info[:200])
        return _error_page(
            request,
            code=CODE_NOT_FOUND,
            message=MSG_INVALID_PATH,
            status=HTTPStatus.NOT_FOUND,
        )
    result: VerifyResult = verify_token(
        request.GET.get(":jwt"),
        lookup_secret=directory.embed_secret,
        now=current_time(),
        claim_jti=claim_jti,
        team_exists=directory.team_exists,
        owner_allows=directory.owner_allows,
        connection_exists=directory.connection_exists,
        is_internal_member=directory.is_internal_member,
    )
    if not result.ok:
        logger.info("Emulator: refused token (%s, rule %s)", result.code, result.rule)
        return _error_page(request, code=result.code, message=result.message, status=result.status)
    claims = result.claims
    resolved = org_content.resolve(parsed)
    if resolved is None:
        logger.info("Emulator: ENOENT, no such content %r", request.path_info[:200])
        return _error_page(
            request, code=CODE_NOT_FOUND, message=MSG_INVALID_PATH, status=HTTPStatus.NOT_FOUND
        )
    member = provision_embed_user(claims)
    if member is None:
        return _error_page(
            request,
            code=CODE_INVALID,
            message=MSG_UNKNOWN_ACCOUNT_TYPE,
            status=HTTPStatus.UNAUTHORIZED,
        )
    if not org_content.can_view(resolved, member, claims):
        # EACCES: Sigma's JWT error page ("The embedded workbook is not shared or no
        # longer shared with the user"); its QuickStart QS03 says EPERM (docs/emulator.md).
        logger.info("Emulator: EACCES, %s %r not shared", resolved.kind, resolved.name[:200])
        return _error_page(
            request, code=CODE_ACCESS, message=MSG_NOT_SHARED, status=HTTPStatus.FORBIDDEN
        )
    options, controls = split_query(request)
    attributes = claims.get("user_attributes") or {}
    element_views = org_content.element_views(
        resolved, token_attributes=attributes, controls=controls
    )
    theme = options.get(":theme", "Light")
    return render(
        request,
        "sigma_emulator/content.html",
        {
            "content": parsed,
            "email": claims["sub"],
            "teams": claims.get("teams") or [],
            "account_type": claims.get("account_type") or member.account_type.name,
            "member": member,
            "first_name": claims.get("first_name", ""),
            "last_name": claims.get("last_name", ""),
            "eval_connection_id": claims.get("eval_connection_id", ""),
            # Which connections got an OAuth token that decrypted; never the token.
            "oauth_connections": result.oauth_connections,
            "user_attributes": sorted(attributes.items()),
            "options": sorted(options.items()),
            "ignored_options": set(interface(options)["ignored"]),
            "controls": sorted(controls.items()),
            "resolved": resolved,
            "workbook": resolved.workbook,
            "pages": [(page, element_views[page.pk]) for page in resolved.pages],
            "ui": interface(options),
            "theme_class": "theme-" + ("".join(ch for ch in theme if ch.isalnum()) or "Light"),
            "page_data": {
                "frameAncestors": frame_ancestors(),
                "responsiveHeight": options.get(":responsive_height") == "true",
                "variables": {name: value.display for name, value in controls.items()},
                "workbookId": parsed.workbook_id,
            },
        },
    )


# Sigma's "Embed URL parameters" table for JWT-signed URLs (URLPARAMS, copy of
# 2025-10) plus the parameters its release notes added since (FFF 2026-01:
# hide_element_interactions, hide_schedule, hide_send; FFF 2026-04: hide_save_as).
# docs/emulator.md cites each one.
TABLE_FLAGS = (
    "hide_bookmarks",
    "hide_explore_toggle",
    "hide_folder_navigation",
    "hide_menu",
    "hide_tooltip",
    "responsive_height",
    "hide_element_interactions",
    "hide_schedule",
    "hide_send",
    "hide_save_as",
)
TABLE_VALUES = (":lng", ":lng_variant", ":menu_position", ":theme")
#: Outside the table but shown for JWT embeds elsewhere: ``:jwt``/``:embed``
#: (JWTDOC), ``:bookmark``/``:explore`` (shareable links), ``:disable_mobile_view``
#: (QS03; the emulator has no mobile layout to turn off) and ``:hide_page_controls``
#: (QuickStart "REST API Usage 09: Hide Menus & Page Nav": no page tabs).
KNOWN_OTHER = (":embed", ":bookmark", ":explore", ":disable_mobile_view", ":hide_page_controls")


def interface(options: dict[str, str]) -> dict[str, Any]:
    """The interface options (URLPARAMS) as the page applies them.

    An option Sigma's JWT table does not list is ignored, as the table says
    ("Parameters not listed in this table are ... not supported"): it is shown in
    ``ignored``, never applied.
    """
    # URLPARAMS (JWT): "When no value is specified, defaults to none" (QS03's "bottom"
    # is the legacy URLs' default); hide_menu then has no menu to hide.
    position = options.get(":menu_position") or "none"
    ui: dict[str, Any] = {
        "menu_position": position if position in ("top", "bottom", "none") else "none",
    }
    for name in TABLE_FLAGS:
        ui[name] = options.get(f":{name}") == "true"
    ui["hide_page_controls"] = options.get(":hide_page_controls") == "true"
    language = options.get(":lng", "")
    ui["lng"] = language
    # URLPARAMS: lng_variant "Must be used with lng".
    ui["lng_variant"] = options.get(":lng_variant", "") if language else ""
    known = {f":{name}" for name in TABLE_FLAGS} | set(TABLE_VALUES) | set(KNOWN_OTHER)
    ui["ignored"] = sorted(name for name in options if name not in known)
    return ui
