"""``{% sigma_embed "slug" %}``: a Sigma embed on any page of the site.

::

    {% load sigma_embed %}
    {% sigma_embed "sales-overview" %}

renders the embed for the signed-in user: a URL signed through the one issuing
service (``embeds.issuing.issue_embed_url``, audit source "tag") in the markup
``embeds/static/embeds/embed.js`` mounts, plus that script and the frame's
stylesheet ``embeds/embed.css`` (once per page). When
the user may not see the embed, the tag renders the friendly refusal instead
(what is wrong and who can fix it), never an error page.

The page must be sent ``no-store`` and ``no-referrer`` with the Sigma origins in
its CSP ``frame-src``: the tag flags the request, and
``embeds.http.SignedURLHeadersMiddleware`` (or the ``embeds.http.sigma_embed_page``
decorator on the view) sets those headers. On a request neither covers, the tag
signs nothing: it renders a refusal (``headers_not_covered``) and logs an error
naming both fixes, so a signed URL is never sent in a cacheable, Referer-leaking
response.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.debug import sensitive_variables

from embeds import issuing
from embeds.exceptions import Refusal
from embeds.frames import (
    MSG_NOT_FOUND,
    MSG_NOT_FOUND_FIXER,
    MSG_NOT_SIGNED_IN,
    MSG_NOT_SIGNED_IN_FIXER,
    InvalidEmbedRequest,
    embed_frame,
)
from embeds.http import client_ip, headers_covered, note_signed_url
from embeds.issuing.snapshots import lookup
from embeds.models import AccessRecord

logger = logging.getLogger(__name__)

register = template.Library()

# Counts the tags rendered for one request: embed.js is included once per page
# and each frame gets its own id.
_RENDERED = "_sigma_embed_count"

MSG_NO_REQUEST = (
    "{% sigma_embed %} needs the request in the template context: render the page "
    "with render(request, ...) or a TemplateResponse, and keep "
    "'django.template.context_processors.request' in TEMPLATES."
)

MSG_HEADERS = "This page cannot show embedded content safely."
MSG_HEADERS_FIXER = (
    "The site's developers must add embeds.http.SignedURLHeadersMiddleware to "
    "MIDDLEWARE or decorate the page's view with embeds.http.sigma_embed_page."
)


# Set on the request once embed.css is on the page.
_STYLED = "_sigma_embed_styled"


def _stylesheet_once(request: HttpRequest) -> str:
    """The frame's stylesheet link, the first time a tag renders on this page."""
    if getattr(request, _STYLED, False):
        return ""
    setattr(request, _STYLED, True)
    # A stylesheet link is allowed in the body; embed.css styles only the frame.
    return format_html('<link rel="stylesheet" href="{}">', static("embeds/embed.css"))


def _refusal_html(request: HttpRequest, refusal: Refusal | InvalidEmbedRequest) -> SafeString:
    html = render_to_string("embeds/_refused_frame.html", {"refusal": refusal}, request=request)
    return mark_safe(_stylesheet_once(request) + html)  # noqa: S308 - autoescaped


@register.simple_tag(takes_context=True)
@sensitive_variables("signed", "frame", "html")  # the signed URL is a credential
def sigma_embed(context: template.Context, slug: str, frame_id: str = "") -> SafeString:
    """The embed ``slug`` for ``request.user``, or the reason it cannot be shown."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        # A developer error, not the user's: say how to fix it.
        raise ImproperlyConfigured(MSG_NO_REQUEST)
    if not request.user.is_authenticated:
        return _refusal_html(
            request,
            InvalidEmbedRequest(
                "login_required",
                MSG_NOT_SIGNED_IN,
                MSG_NOT_SIGNED_IN_FIXER,
                status=HTTPStatus.UNAUTHORIZED,
            ),
        )
    if not headers_covered(request):
        # Security: the response would carry a single-use signed URL without
        # no-store and no-referrer (a proxy or history could keep it, a link could
        # leak it): sign nothing rather than rely on the integrator noticing.
        logger.error(
            "{%% sigma_embed %%} on %.200r without SignedURLHeadersMiddleware or "
            "sigma_embed_page: nothing signed",
            request.path,
        )
        return _refusal_html(
            request,
            InvalidEmbedRequest(
                "headers_not_covered",
                MSG_HEADERS,
                MSG_HEADERS_FIXER,
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
            ),
        )
    # The page's own path: one round trip to the shared cache, no query when warm.
    found = lookup(slug=slug, user=request.user)
    if found.embed is None:
        return _refusal_html(
            request,
            InvalidEmbedRequest(
                "not_found", MSG_NOT_FOUND, MSG_NOT_FOUND_FIXER, status=HTTPStatus.NOT_FOUND
            ),
        )
    try:
        signed = issuing.issue_embed_url(
            user=request.user,
            embed=found.embed,
            source=AccessRecord.Source.TAG,
            client_ip=client_ip(request),
            counted=found.issue_count,
        )
    except Refusal as refusal:
        return _refusal_html(request, refusal)
    # From here the response carries a signed URL: no-store, no-referrer, frame-src.
    note_signed_url(request)
    count = getattr(request, _RENDERED, 0) + 1
    setattr(request, _RENDERED, count)
    embed = found.embed.embed  # the embed's fields (relations are in the snapshot)
    frame = embed_frame(
        request,
        embed,
        signed,
        frame_id=frame_id or ("sigma-embed" if count == 1 else f"sigma-embed-{count}"),
    )
    html = _stylesheet_once(request) + render_to_string(
        "embeds/_frame.html", {"embed": embed, "frame": frame}, request=request
    )
    if count == 1:
        # embed.js mounts every [data-sigma-embed] on the page; once is enough.
        html += format_html('<script src="{}"></script>', static("embeds/embed.js"))
    return mark_safe(html)  # noqa: S308 - autoescaped template output
