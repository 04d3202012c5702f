"""Sign-in protected against password guessing, with counters in the cache.

After ``SIGMA_LOGIN_RATE_LIMIT`` failures for one username (or
``SIGMA_LOGIN_IP_RATE_LIMIT`` from one client IP) in the window, the form is
refused with 429 and ``Retry-After`` *before* any password is checked, so
guessing stops being informative. Counters live in the default cache
(``embeds.ratelimit``), which Redis shares across processes.
"""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from embeds import ratelimit


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted
    # proxy rewrites it, and a spoofable key would let an attacker dodge the limit.
    return request.META.get("REMOTE_ADDR") or None


def render_locked(request: HttpRequest, lock: ratelimit.LoginLock) -> HttpResponse:
    """The friendly lockout page: what happened, how long, who can help."""
    minutes = max(1, -(-lock.retry_after // 60))
    response = render(
        request,
        "registration/login_locked.html",
        {"lock": lock, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(lock.retry_after)
    return response


class ProtectedLoginView(LoginView):
    """Django's LoginView with a cache-backed limit on failed attempts."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        lock = ratelimit.login_lock(username=username, ip=_client_ip(request))
        if lock is not None:
            return render_locked(request, lock)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        username = self.request.POST.get("username", "")[:150]
        ip = _client_ip(self.request)
        ratelimit.record_login_failure(username=username, ip=ip)
        lock = ratelimit.login_lock(username=username, ip=ip)
        if lock is not None:
            return render_locked(self.request, lock)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        ratelimit.record_login_success(username=form.get_user().get_username())
        return super().form_valid(form)
