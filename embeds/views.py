"""End-user pages: the list of embeds, and one embed signed afresh per request."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from accounts.models import SigmaProfile

from . import services
from .access import visible_embeds
from .exceptions import RateLimited, Refusal
from .models import AccessRecord, Embed


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def allow_sigma_frames(response: HttpResponse) -> HttpResponse:
    """Let this response frame the configured Sigma origins, and nothing else."""
    origins = list(settings.SIGMA_ALLOWED_ORIGINS)
    response._csp_replace = {"frame-src": origins, "child-src": origins}
    return response


def render_refusal(request: HttpRequest, refusal: Refusal, *, embed: Embed | None = None) -> HttpResponse:
    """The friendly page for a refusal: what is wrong and who can fix it, no detail."""
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
    blocked = SigmaProfile.objects.filter(user=request.user, is_blocked=True).exists()
    embeds = [] if blocked else list(visible_embeds(request.user))
    return render(request, "embeds/home.html", {"embeds": embeds, "blocked": blocked})


@never_cache  # the page carries a single-use signed URL: never store or reuse it
@login_required
def embed_page(request: HttpRequest, slug: str) -> HttpResponse:
    embed = get_object_or_404(Embed.objects.select_related("credential"), slug=slug)
    try:
        signed = services.issue_embed_url(
            user=request.user,
            embed=embed,
            source=AccessRecord.Source.PAGE,
            client_ip=client_ip(request),
        )
    except Refusal as refusal:
        return render_refusal(request, refusal, embed=embed)
    context = {
        "embed": embed,
        "signed_url": signed.url,
        "expires_at": signed.expires_at,
        "sigma_origin": embed.content.origin,
        "allowed_origins": settings.SIGMA_ALLOWED_ORIGINS,
    }
    return allow_sigma_frames(render(request, "embeds/embed.html", context))
