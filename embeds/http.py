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
position relative to ``csp.middleware.CSPMiddleware`` does not matter. Without
django-csp in ``MIDDLEWARE`` and no header on the response, the app sets a policy of
``frame-src``/``child-src`` alone itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

from embeds.conf import sigma_settings

CSP_HEADER = "Content-Security-Policy"
FRAME_DIRECTIVES = ("frame-src", "child-src")
# Set on the request by note_signed_url(); read by SignedURLHeadersMiddleware.
REQUEST_FLAG = "_sigma_signed_url"
# Set on the request by SignedURLHeadersMiddleware and sigma_embed_page before the
# view runs: whatever the view renders, its response will get the headers. The
# {% sigma_embed %} tag signs nothing on a request without it.
COVERED_FLAG = "_sigma_headers_covered"
# Set on a response by allow_sigma_frames(): it carries the headers, whatever its
# body renders later (a streamed body is rendered after the middleware returned).
RESPONSE_FLAG = "_sigma_signed_url_headers"

Response = TypeVar("Response", bound=HttpResponseBase)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR_META = "HTTP_X_FORWARDED_FOR"
# IPv6 clients are counted per /64: one subscriber usually holds a whole /64, so a
# per-address key would give them 2**64 fresh counters.
IPV6_COUNTING_PREFIX = 64
# IPv6 ranges whose last 32 bits are an IPv4 client (RFC 6052 NAT64/SIIT well-known
# prefix, RFC 8215 local-use prefix, RFC 2765 IPv4-translated): counted as that
# IPv4 address, or every IPv4 client behind the translator would share one /64.
IPV4_EMBEDDING_NETWORKS = tuple(
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
)


# --- The client address -------------------------------------------------------------


def parse_trusted_proxies(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``TRUSTED_PROXIES`` entries (addresses or CIDR ranges) as networks.

    Raises ``ImproperlyConfigured`` naming the entry's position, never its value.
    """
    networks = []
    for position, value in enumerate(values, start=1):
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"Setting TRUSTED_PROXIES entry {position} is not an address or CIDR range."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_trusted_proxies(values)


def trusted_proxies() -> tuple[IPNetwork, ...]:
    """The configured ``TRUSTED_PROXIES`` (read at call time; empty by default)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _address(value: str | None) -> IPAddress | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    # A v4 client reached over a v6 socket is that v4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, proxies: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the direct peer (``REMOTE_ADDR``) is one of ``TRUSTED_PROXIES``."""
    peer = _address(request.META.get("REMOTE_ADDR"))
    return peer is not None and _is_trusted(peer, trusted_proxies())


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one reading of it for the sign-in lockout, the rate
    limits, the audit trail and the request id (``hostsite.requestid``).

    ``REMOTE_ADDR``, unless that peer is one of ``TRUSTED_PROXIES``: then the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy (each
    proxy appends the address it saw, so everything left of that entry was written
    by the client and proves nothing). From any other peer the header is ignored:
    a client could otherwise pick a fresh address per request. None when there is
    no usable address.
    """
    peer = _address(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    proxies = trusted_proxies()
    if not _is_trusted(peer, proxies):
        return str(peer)
    chain = request.META.get(FORWARDED_FOR_META, "").split(",")
    for entry in reversed(chain):
        address = _address(entry)
        if address is None:
            # Not an address where the proxies should have written one: stop, and
            # count the request against the proxy rather than trust the rest.
            break
        if not _is_trusted(address, proxies):
            return str(address)
    return str(peer)


def counting_key(address: str | None) -> str | None:
    """The address a per-client counter uses: IPv4 as is, IPv6 as its /64 network
    address (``2001:db8:1:2::``), so one subscriber's prefix is one client; an IPv4
    client seen through NAT64/SIIT (``64:ff9b::203.0.113.7``) as its IPv4 address."""
    parsed = _address(address)
    if parsed is None:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if any(parsed in network for network in IPV4_EMBEDDING_NETWORKS):
            return str(ipaddress.IPv4Address(int(parsed) & 0xFFFFFFFF))
        network = ipaddress.IPv6Network((parsed, IPV6_COUNTING_PREFIX), strict=False)
        return str(network.network_address)
    return str(parsed)


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
    elif not _django_csp_installed():
        # Security: without django-csp nothing else writes a policy, and the frame
        # must still be limited to Sigma: a policy of frame-src/child-src alone
        # (every other directive stays unrestricted, as the site had it).
        response[CSP_HEADER] = replace_frame_sources("", origins)
    setattr(response, RESPONSE_FLAG, True)
    return mark_signed_url_response(response)


def _django_csp_installed() -> bool:
    """django-csp's middleware is in MIDDLEWARE: it writes the header, we only adjust it."""
    return any(path.startswith("csp.middleware.") for path in settings.MIDDLEWARE)


def note_signed_url(request: HttpRequest) -> None:
    """Record that this request's response will carry a signed URL."""
    setattr(request, REQUEST_FLAG, True)


def carries_signed_url(request: HttpRequest) -> bool:
    return bool(getattr(request, REQUEST_FLAG, False))


def mark_headers_covered(request: HttpRequest) -> None:
    """Record that this request's response will get the signed-URL headers."""
    setattr(request, COVERED_FLAG, True)


def headers_covered(request: HttpRequest) -> bool:
    """Whether the middleware or the decorator will give the response the headers."""
    return bool(getattr(request, COVERED_FLAG, False))


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
        mark_headers_covered(request)
        return allow_sigma_frames(view(request, *args, **kwargs))

    return wrapper


class SignedURLHeadersMiddleware:
    """Give every response that rendered a signed URL the headers above.

    Add ``"embeds.http.SignedURLHeadersMiddleware"`` to ``MIDDLEWARE`` (anywhere
    after ``SessionMiddleware`` and ``AuthenticationMiddleware`` is fine); a page
    that renders ``{% sigma_embed %}`` then needs no decorator. Responses that
    carry no signed URL are left alone. A streamed body is rendered after this
    returned: the tag refuses there (``headers_not_covered``); decorate such a
    view with ``sigma_embed_page``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        mark_headers_covered(request)
        response = self.get_response(request)
        # TemplateResponses are rendered by the time they reach middleware, so the
        # tag has already flagged the request.
        if carries_signed_url(request):
            allow_sigma_frames(response)
        elif not getattr(response, RESPONSE_FLAG, False):
            # Security: this response's headers are decided without the signed-URL
            # ones. A tag rendered later (a StreamingHttpResponse's body is rendered
            # while it is sent) must refuse with headers_not_covered rather than
            # sign a URL that would go out cacheable and with a Referer.
            setattr(request, COVERED_FLAG, False)
        return response
