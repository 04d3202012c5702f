"""End-user pages and their JSON endpoints.

The list of embeds; one embed, signed afresh on every request; a fresh signed URL
for the page script to re-mount the iframe (same login and rules as the page); and
``workbook:error`` reports from the browser.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from functools import wraps
from http import HTTPStatus
from typing import TYPE_CHECKING, Concatenate, ParamSpec, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from embeds import issuing, services
from embeds.conf import sigma_settings
from embeds.exceptions import RateLimited, Refusal, UserBlocked
from embeds.frames import (
    MSG_LOGIN,
    MSG_LOGIN_FIXER,
    MSG_NOT_FOUND,
    MSG_NOT_FOUND_FIXER,
    InvalidEmbedRequest,
    embed_frame,
    with_options,
)
from embeds.http import allow_sigma_frames, client_ip, mark_signed_url_response
from embeds.issuing import ratelimit
from embeds.issuing.access import (
    HIDES_EMBED,
    check_visible,
    listed_embeds_for_teams,
    visible_embeds,
)
from embeds.issuing.identity import identity_for
from embeds.issuing.snapshots import EmbedSnapshot, Lookup, lookup
from embeds.models import AccessRecord, Embed
from embeds.protocol import constants
from embeds.protocol.controls import ControlType, ControlValue, parse_query_values

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

    from embeds.issuing.audit import AnyUser

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")

# Error reports one user may send per window (embeds.issuing.ratelimit, per-user counter).
ERROR_REPORT_LIMIT = 10
ERROR_REPORT_WINDOW = 600  # seconds
# The JSON endpoints take small bodies only.
MAX_JSON_BODY = 4096
# Sigma's explore keys and bookmark IDs are opaque; accept only URL-safe ones.
PLACE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# The user's place in the content, in the order Sigma prefers them (bookmark wins).
PLACE_NAMES = constants.PLACE_OPTIONS

MSG_CONTROL_VALUE = (
    "The page address sets the control %(control)s to a value Sigma cannot take "
    "(one that fits the control's type, up to 1000 characters, no control characters)."
)
MSG_CONTROL_FIXER = "Correct the link, or ask whoever sent it for a new one."
MSG_PLACE = "The saved place (%(name)s) is not a Sigma explore key or bookmark ID."
MSG_PLACE_FIXER = "Reload the page to open the content from the start."
MSG_BAD_JSON = "The request body is not a JSON object."
MSG_TOO_LARGE = "The request body is larger than %(limit)d bytes."
MSG_REPORT_CODE = "An error report needs a code (a non-empty string)."
MSG_REPORT_MESSAGE = "An error report's message must be a string."
MSG_RELOAD_FIXER = "Reload the page; if that does not help, tell an administrator of this site."
MSG_REPORTS_LIMITED = "Too many error reports were sent in a short time."
MSG_REPORTS_LIMITED_FIXER = "Nothing else is needed; the earlier reports were kept."


def render_refusal(
    request: HttpRequest, refusal: Refusal | InvalidEmbedRequest, *, embed: Embed | None = None
) -> HttpResponse:
    """The friendly page for a refusal: what is wrong and who can fix it, no detail.

    The embed's title is shown only with refusals decided after the user was found
    to share a team with it (``access.HIDES_EMBED``).
    """
    if isinstance(refusal, HIDES_EMBED):
        embed = None
    response = render(
        request,
        "embeds/refused.html",
        {"refusal": refusal, "embed": embed},
        status=refusal.status,
    )
    if isinstance(refusal, RateLimited):
        response["Retry-After"] = str(refusal.retry_after)
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    try:
        identity = identity_for(signed_in(request))
    except Refusal as refusal:
        # A refused user has nothing to open; the page says so when they are blocked.
        blocked, embeds = isinstance(refusal, UserBlocked), []
    else:
        blocked, embeds = False, list(listed_embeds_for_teams(identity.team_ids))
    return render(request, "embeds/home.html", {"embeds": embeds, "blocked": blocked})


def query_control_values(embed: EmbedSnapshot, query: QueryDict) -> list[tuple[str, ControlValue]]:
    """Control values the page's query string sets, for allowlisted controls only.

    Only controls marked "page may set it" are read; every other parameter is
    ignored (a host page may carry its own). Each value is checked against the
    control's type (``embeds.protocol.controls``): a list control takes every repeated
    parameter and every comma-separated value in them (``?Region=East,West`` or
    ``?Region=East&Region=West``); other types take exactly one value, commas and
    all. A value the type cannot take is refused with ``InvalidEmbedRequest``;
    nothing is silently dropped or trimmed.
    """
    values: list[tuple[str, ControlValue]] = []
    for control in embed.controls:
        if not control.allow_from_query or control.control_id not in query:
            continue
        given = query.getlist(control.control_id)
        if control.type == ControlType.LIST:
            given = [item for value in given for item in value.split(",")]
        try:
            value = parse_query_values(control.type, given)
        except ValidationError:
            raise InvalidEmbedRequest(
                "control_value",
                MSG_CONTROL_VALUE % {"control": repr(control.control_id)},
                MSG_CONTROL_FIXER,
            ) from None
        values.append((control.control_id, value))
    return values


def place_options(
    payload: Mapping[str, object], *, fixer: str = MSG_PLACE_FIXER
) -> list[tuple[str, str]]:
    """``:bookmark`` or ``:explore`` to re-open the user's place (spec §2.2).

    They are interface parameters added after signing, never claims. Sigma opens a
    bookmark or an exploration, not both: the bookmark wins, as in Sigma's samples.
    """
    chosen: list[tuple[str, str]] = []
    for name in PLACE_NAMES:
        value = payload.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not PLACE_KEY.fullmatch(value):
            raise InvalidEmbedRequest("place", MSG_PLACE % {"name": name}, fixer)
        chosen.append((constants.option_param(name), value))
    return chosen[:1]


def query_place_options(query: QueryDict) -> list[tuple[str, str]]:
    """The place a link to the page asks for: ``?:bookmark=…`` or ``?:explore=…``.

    Only these two parameters are read from the page's query string, checked exactly
    as the refresh endpoint checks its body; every other ``:`` parameter (``:jwt``,
    interface options) is ignored, so a link can never add anything else to the
    signed URL.
    """
    wanted = {name: query.get(constants.option_param(name)) for name in PLACE_NAMES}
    return place_options(wanted, fixer=MSG_CONTROL_FIXER)


@sensitive_variables("signed", "context")  # topmost: covers every frame below
@never_cache  # the page carries a single-use signed URL: never store or reuse it
@login_required
def embed_page(request: HttpRequest, slug: str) -> HttpResponse:
    # One round trip to the shared cache (embeds.issuing.snapshots) for the embed,
    # the user's identity and the rate limit; no query when it is warm.
    found = lookup(slug=slug, user=request.user)
    target = found.embed
    if target is None:
        # The same page, status and audit row as an embed in none of the user's teams.
        return render_refusal(request, _refuse_unknown(request, found, AccessRecord.Source.PAGE))
    embed = target.embed
    try:
        controls = query_control_values(target, request.GET)
        place = query_place_options(request.GET)
    except InvalidEmbedRequest as problem:
        hidden = _hidden_refusal(request.user, target)
        return render_refusal(request, hidden or problem, embed=embed)
    try:
        signed = _issue(request, found, target, AccessRecord.Source.PAGE, controls)
    except Refusal as refusal:
        return render_refusal(request, refusal, embed=embed)
    frame = embed_frame(request, embed, signed, place=place)
    context = {
        "embed": embed,
        "signed_url": frame["src"],
        "expires_at": signed.expires_at,
        "sigma_origin": embed.content.origin,
        "allowed_origins": sigma_settings.ALLOWED_ORIGINS,
        "frame": frame,
    }
    return allow_sigma_frames(render(request, "embeds/embed.html", context))


# --- JSON endpoints for embed.js ---------------------------------------------------


def signed_in(request: HttpRequest) -> User:
    """``request.user`` behind ``login_required`` or ``json_login_required``.

    Both decorators answer anonymous requests before the view runs, so the user is
    a signed-in one here; the cast only tells the type checker so.
    """
    return cast("User", request.user)


def json_error(problem: Refusal | InvalidEmbedRequest) -> JsonResponse:
    """A refusal or bad input as ``{"error": {code, title, message}}`` with its status."""
    response = JsonResponse(
        {
            "error": {
                "code": problem.code,
                "title": str(problem.title),
                "message": problem.user_message,
            }
        },
        status=problem.status,
    )
    if isinstance(problem, RateLimited):
        response["Retry-After"] = str(problem.retry_after)
    return response


def _issue(
    request: HttpRequest,
    found: Lookup,
    target: EmbedSnapshot,
    source: str,
    controls: list[tuple[str, ControlValue]],
) -> issuing.SignedEmbed:
    """Sign ``target`` (``found.embed``) for the page or the refresh endpoint: the
    request's user and address, and the rate count its cache round trip took."""
    return issuing.issue_embed_url(
        user=request.user,
        embed=target,
        source=source,
        client_ip=client_ip(request),
        control_values=controls,
        counted=found.issue_count,
    )


def _refuse_unknown(request: HttpRequest, found: Lookup, source: str) -> Refusal:
    """The refusal for a slug no embed has (``found.embed`` None), for the page or
    the refresh endpoint: counted and recorded exactly like a real embed's."""
    return issuing.refuse_unknown_embed(
        user=request.user, source=source, client_ip=client_ip(request), counted=found.issue_count
    )


def json_login_required(
    view: Callable[Concatenate[HttpRequest, _P], JsonResponse],
) -> Callable[Concatenate[HttpRequest, _P], JsonResponse]:
    """Like ``login_required``, but a JSON 401 instead of a redirect to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> JsonResponse:
        if not request.user.is_authenticated:
            return json_error(
                InvalidEmbedRequest(
                    "login_required", MSG_LOGIN, MSG_LOGIN_FIXER, status=HTTPStatus.UNAUTHORIZED
                )
            )
        return view(request, *args, **kwargs)

    return wrapper


def read_json_object(request: HttpRequest) -> dict[str, object]:
    """The request body as a JSON object (an empty body is ``{}``), size-capped."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_JSON_BODY or len(request.body) > MAX_JSON_BODY:
        raise InvalidEmbedRequest(
            "too_large",
            MSG_TOO_LARGE % {"limit": MAX_JSON_BODY},
            MSG_RELOAD_FIXER,
            status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        )
    if not request.body.strip():
        return {}
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise InvalidEmbedRequest("bad_json", MSG_BAD_JSON, MSG_RELOAD_FIXER)
    return payload  # a JSON object's keys are strings


def _embed_or_none(slug: str) -> Embed | None:
    return Embed.objects.select_related("credential").filter(slug=slug).first()


def _hidden_refusal(user: AnyUser, embed: EmbedSnapshot) -> Refusal | None:
    """The refusal to show instead of a complaint about request input, when the user
    may not learn that ``embed`` exists (a 400 would tell them it does)."""
    try:
        check_visible(user=user, embed=embed)
    except Refusal as refusal:
        return refusal
    return None


def _not_found() -> JsonResponse:
    return json_error(
        InvalidEmbedRequest(
            "not_found", MSG_NOT_FOUND, MSG_NOT_FOUND_FIXER, status=HTTPStatus.NOT_FOUND
        )
    )


@sensitive_variables("signed", "response")
@never_cache
@require_POST  # issues a token and writes the audit trail: POST, CSRF-checked
@json_login_required
def embed_refresh(request: HttpRequest, slug: str) -> JsonResponse:
    """A new signed URL for the page script, under the same login and rules as the page.

    Body (JSON, optional): ``bookmark`` or ``explore`` to re-open the user's place.
    The query string is read like the page's (allowlisted control values only).
    """
    found = lookup(slug=slug, user=request.user)
    target = found.embed
    if target is None:
        return json_error(_refuse_unknown(request, found, AccessRecord.Source.REFRESH))
    try:
        place = place_options(read_json_object(request))
        controls = query_control_values(target, request.GET)
    except InvalidEmbedRequest as problem:
        return json_error(_hidden_refusal(request.user, target) or problem)
    try:
        signed = _issue(request, found, target, AccessRecord.Source.REFRESH, controls)
    except Refusal as refusal:
        return json_error(refusal)
    response = JsonResponse(
        {
            "url": with_options(signed.url, place),
            "expiresIn": signed.claims["exp"] - signed.claims["iat"],
            "expiresAt": signed.expires_at.isoformat(),
        }
    )
    return mark_signed_url_response(response)


ERROR_REPORT_SCOPE = "error-report"


def take_error_report_slot(user: AnyUser) -> ratelimit.Hit:
    """Count one report against ``user`` (``embeds.issuing.ratelimit``'s cache counter)."""
    rate = ratelimit.Rate(ERROR_REPORT_LIMIT, ERROR_REPORT_WINDOW)
    return ratelimit.hit(ERROR_REPORT_SCOPE, f"user:{user.pk}", rate)


@never_cache
@require_POST
@json_login_required
def embed_error_report(request: HttpRequest, slug: str) -> JsonResponse:
    """Record a ``workbook:error`` the page script saw (``{code, message}``).

    Only for embeds the user can see; rate-limited per user; the service strips
    anything that looks like a token before storing.
    """
    embed = _embed_or_none(slug)
    if embed is None or not visible_embeds(signed_in(request)).filter(pk=embed.pk).exists():
        return _not_found()
    slot = take_error_report_slot(request.user)
    if slot.exceeded:
        logger.warning("Error reports rate-limited user=%s embed=%s", request.user.pk, slug)
        limited = InvalidEmbedRequest(
            "rate_limited",
            MSG_REPORTS_LIMITED,
            MSG_REPORTS_LIMITED_FIXER,
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
        response = json_error(limited)
        response["Retry-After"] = str(slot.retry_after)
        return response
    try:
        payload = read_json_object(request)
        code = payload.get("code")
        message = payload.get("message", "")
        if not isinstance(code, str) or not code.strip():
            raise InvalidEmbedRequest("report_code", MSG_REPORT_CODE, MSG_RELOAD_FIXER)
        if not isinstance(message, str):
            raise InvalidEmbedRequest("report_message", MSG_REPORT_MESSAGE, MSG_RELOAD_FIXER)
        report = services.record_embed_error(
            user=signed_in(request), embed=embed, code=code, message=message
        )
    except InvalidEmbedRequest as problem:
        return json_error(problem)
    except ValueError:  # the code was nothing but control characters
        return json_error(InvalidEmbedRequest("report_code", MSG_REPORT_CODE, MSG_RELOAD_FIXER))
    return JsonResponse({"recorded": True, "id": report.pk}, status=HTTPStatus.CREATED)
