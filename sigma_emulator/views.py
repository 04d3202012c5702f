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

from embeds.exceptions import CredentialBroken
from embeds.models import Credential, Team

from .models import claim_jti
from .verify import (
    CODE_NOT_FOUND,
    MSG_INVALID_PATH,
    Content,
    VerifyResult,
    parse_content_path,
    verify_token,
)

logger = logging.getLogger(__name__)

DEFAULT_FRAME_ANCESTORS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def frame_ancestors() -> list[str]:
    """Host origins allowed to frame the emulator (read at call time)."""
    return list(getattr(settings, "SIGMA_EMULATOR_FRAME_ANCESTORS", DEFAULT_FRAME_ANCESTORS))


def content_security_policy(ancestors: list[str]) -> str:
    # The host's CSP middleware leaves a response alone once it carries this header.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors " + (" ".join(ancestors) or "'none'"),
        ]
    )


def emulator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse when the emulator is off; set the emulator's headers on every page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Defence in depth: the command refuses to start when disabled, and a
        # stray route to these views must not come alive either.
        if not getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
            raise Http404("The Sigma emulator is disabled.")
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = content_security_policy(frame_ancestors())
        # Every URL carries a single-use token: never cache, never leak it.
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    # Framed by the host on purpose; frame-ancestors above says by whom.
    return xframe_options_exempt(wrapper)


def current_time() -> int:
    """Epoch seconds; a hook tests override, like ``PasswordResetTokenGenerator._now``."""
    return int(timezone.now().timestamp())


def lookup_secret(kid: str) -> str | None:
    """The secret of the active credential whose client ID is ``kid``, or None."""
    credential = Credential.objects.filter(client_id=kid, is_active=True).first()
    if credential is None:
        return None
    try:
        return credential.signing_secret()
    except CredentialBroken:
        # An undecryptable secret verifies nothing; Sigma would not know it either.
        logger.warning("Emulator: credential for kid %r did not decrypt.", kid[:64])
        return None


def team_exists(name: str) -> bool:
    """The emulated organization's teams are the host's team registry."""
    return Team.objects.filter(name=name).exists()


def owner_allows(kid: str, sub: str) -> bool:
    """Sigma's owner rule, read from the credential record (spec §7)."""
    credential = Credential.objects.filter(client_id=kid).first()
    if credential is None:
        return False
    return credential.owner_is_admin or (
        bool(credential.owner_email) and credential.owner_email.casefold() == sub.casefold()
    )


def _error_page(request: HttpRequest, *, code: str, message: str, status: int) -> HttpResponse:
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


def split_query(request: HttpRequest) -> tuple[dict[str, str], dict[str, str]]:
    """Interface options (``:name``, never ``:jwt``) and control values."""
    options: dict[str, str] = {}
    controls: dict[str, str] = {}
    for name in request.GET:
        value = request.GET.get(name, "")
        if name == ":jwt":
            continue
        if name.startswith(":"):
            options[name] = value
        elif name:
            controls[name] = value
    return options, controls


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
        lookup_secret=lookup_secret,
        now=current_time(),
        claim_jti=claim_jti,
        team_exists=team_exists,
        owner_allows=owner_allows,
    )
    if not result.ok:
        logger.info("Emulator: refused token (%s, rule %s)", result.code, result.rule)
        return _error_page(request, code=result.code, message=result.message, status=result.status)
    claims = result.claims
    options, controls = split_query(request)
    attributes = claims.get("user_attributes") or {}
    return render(
        request,
        "sigma_emulator/content.html",
        {
            "content": parsed,
            "email": claims["sub"],
            "teams": claims["teams"],
            "account_type": claims["account_type"],
            "user_attributes": sorted(attributes.items()),
            "options": sorted(options.items()),
            "controls": sorted(controls.items()),
            "page_data": {
                "frameAncestors": frame_ancestors(),
                "responsiveHeight": options.get(":responsive_height") == "true",
                "variables": controls,
                "workbookId": parsed.workbook_id,
            },
        },
    )
