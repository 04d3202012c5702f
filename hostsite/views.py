"""The load benchmark's baseline: a signed-in page as heavy as the embed page.

``make loadtest`` compares the embed page and the refresh endpoint with this page
in the same run. It renders the embed page's own template, with the same headers,
for a made-up embed, so the difference is the cost of issuing a URL (access
checks, decryption, signing, the audit row) and nothing else. It is off (404)
unless BENCH_BARE_PAGE is true, and behind login like the page it stands for; it
reads nothing from the database beyond the session's user.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from embeds.http import allow_sigma_frames
from embeds.models import Embed

BENCH_SLUG = "bench-bare"
BENCH_TITLE = "Sales Overview"
BENCH_URL = "https://app.sigmacomputing.com/bench/workbook/Bench-Page-4bq2ZtkLmV8xWn3pRs6HyA"
# About the length of a signed URL (claims, token and interface options), so the
# page weighs what the embed page weighs. Not a token: a run of zeros.
BENCH_SRC = f"{BENCH_URL}?:embed=true&:bench={'0' * 480}"


@never_cache
@login_required
def bench_bare(request: HttpRequest) -> HttpResponse:
    if not settings.BENCH_BARE_PAGE:
        raise Http404
    embed = Embed(slug=BENCH_SLUG, title=BENCH_TITLE, url=BENCH_URL)
    frame = {
        "id": "sigma-embed",
        "src": BENCH_SRC,
        "name": "sigma-bench",
        "expires_in": 3600,
        "allowed_origins": json.dumps(list(settings.SIGMA_ALLOWED_ORIGINS)),
        "refresh_url": reverse("embeds:refresh", kwargs={"slug": BENCH_SLUG}),
        "error_report_url": reverse("embeds:error_report", kwargs={"slug": BENCH_SLUG}),
    }
    context = {"embed": embed, "signed_url": BENCH_SRC, "frame": frame}
    return allow_sigma_frames(render(request, "embeds/embed.html", context))
