"""Response headers for pages whose body carries a signed Sigma URL.

A signed ``:jwt`` URL is a bearer credential for one Sigma session, so a response
that carries one must never be stored (``Cache-Control: no-store``), never leak the
URL through a ``Referer`` (``Referrer-Policy: no-referrer``), and may frame the
configured Sigma origins (``SIGMA_ALLOWED_ORIGINS``) and nothing else (CSP
``frame-src`` / ``child-src``).

Three ways to get those headers, from most to least explicit:

- :func:`sigma_embed_page`, a view decorator: the view's response always gets them.
- :class:`SignedURLHeadersMiddleware`: any response whose rendering issued a signed
  URL (the ``{% sigma_embed %}`` tag calls :func:`note_signed_url`) gets them, so a
  host page needs no decorator.
- :func:`allow_sigma_frames` / :func:`mark_signed_url_response` on a response.

The CSP part works with django-csp (``response._csp_replace``, read by its
middleware) and with a ``Content-Security-Policy`` header already on the response
(its ``frame-src`` and ``child-src`` directives are replaced), so the middleware's
position relative to ``csp.middleware.CSPMiddleware`` does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

from embeds.conf import sigma_settings

CSP_HEADER = "Content-Security-Policy"
FRAME_DIRECTIVES = ("frame-src", "child-src")
# Set on the request by note_signed_url(); read by SignedURLHeadersMiddleware.
REQUEST_FLAG = "_sigma_signed_url"

Response = TypeVar("Response", bound=HttpResponseBase)


def mark_signed_url_response(response: Response) -> Response:
    """``no-store`` and ``no-referrer`` for any response whose body carries a signed URL.

    The URL is single-use and a credential: a cache or a ``Referer`` must never
    hand it to anyone else.
    """
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


def sigma_frame_sources() -> list[str]:
    """The origins a page with an embed may frame (read at call time)."""
    return list(sigma_settings.ALLOWED_ORIGINS)


def replace_frame_sources(policy: str, origins: list[str]) -> str:
    """``policy`` (a CSP header value) with ``frame-src``/``child-src`` set to ``origins``."""
    sources = " ".join(origins) or "'none'"
    kept = []
    for directive in policy.split(";"):
        name = directive.strip().split(" ", 1)[0].lower()
        if name and name not in FRAME_DIRECTIVES:
            kept.append(directive.strip())
    kept.extend(f"{name} {sources}" for name in FRAME_DIRECTIVES)
    return "; ".join(kept)


def allow_sigma_frames(response: Response) -> Response:
    """Mark a response that frames Sigma content with a signed URL.

    It may frame the configured Sigma origins and nothing else; it is never stored
    (the URL is single-use) and never sends a Referer (the URL is a credential).
    """
    origins = sigma_frame_sources()
    # django-csp 4 builds its header from this after the view, replacing the
    # directives named here and keeping the rest of the site's policy.
    response._csp_replace = {  # type: ignore[attr-defined]
        **(getattr(response, "_csp_replace", None) or {}),
        "frame-src": origins,
        "child-src": origins,
    }
    # A header set earlier (django-csp listed after this middleware, or the site's
    # own code) is edited in place, so framing Sigma never depends on ordering.
    if CSP_HEADER in response:
        response[CSP_HEADER] = replace_frame_sources(response[CSP_HEADER], origins)
    return mark_signed_url_response(response)


def note_signed_url(request: HttpRequest) -> None:
    """Record that this request's response will carry a signed URL."""
    setattr(request, REQUEST_FLAG, True)


def carries_signed_url(request: HttpRequest) -> bool:
    return bool(getattr(request, REQUEST_FLAG, False))


def sigma_embed_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """View decorator: the response is ``no-store``, ``no-referrer`` and may frame Sigma.

    Use it on any view whose page renders ``{% sigma_embed %}`` (or otherwise
    carries a signed URL)::

        from embeds.http import sigma_embed_page

        @sigma_embed_page
        def dashboard(request):
            return render(request, "dashboard.html")
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return allow_sigma_frames(view(request, *args, **kwargs))

    return wrapper


class SignedURLHeadersMiddleware:
    """Give every response that rendered a signed URL the headers above.

    Add ``"embeds.http.SignedURLHeadersMiddleware"`` to ``MIDDLEWARE`` (anywhere
    after ``SessionMiddleware`` and ``AuthenticationMiddleware`` is fine); a page
    that renders ``{% sigma_embed %}`` then needs no decorator. Responses that
    carry no signed URL are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # TemplateResponses are rendered by the time they reach middleware, so the
        # tag has already flagged the request.
        if carries_signed_url(request):
            allow_sigma_frames(response)
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The client address for the audit trail and per-IP limits.

    REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy
    rewrites it, and a spoofable value would let an attacker dodge a limit or
    forge the audit trail. Behind a proxy, have it set REMOTE_ADDR.
    """
    return request.META.get("REMOTE_ADDR") or None
