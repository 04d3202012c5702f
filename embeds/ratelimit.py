"""Abuse limits kept in the Django cache: signed URLs per user, failed sign-ins.

Counters live in the default cache (``CACHE_URL``), so with Redis or memcached one
limit holds across every process and host; with the local-memory default it holds
per process only (fine for development, documented in docs/security.md).

A limit is "count/seconds" (``SIGMA_RATE_LIMIT`` = "60/60"), counted in fixed
windows aligned to the epoch: window ``n`` covers ``[n*seconds, (n+1)*seconds)``.
A client can therefore get at most ``2*count`` through across one window boundary;
for the limits here that is an acceptable price for one atomic ``incr`` per hit.
Settings are read at call time, so tests and operators can change them live.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from .exceptions import RateLimited

logger = logging.getLogger(__name__)

KEY_PREFIX = "sigma-rl"


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@dataclass(frozen=True)
class Hit:
    """The state of one counter after (or without) counting a hit."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def parse_rate(value: str, *, setting: str = "rate") -> Rate | None:
    """Parse "count/seconds" (both above 0) or "off" (None). Never echoes the value."""
    text = (value or "").strip().lower()
    if text == "off":
        return None
    count, slash, seconds = text.partition("/")
    if slash and count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0:
        return Rate(int(count), int(seconds))
    raise ImproperlyConfigured(
        f"Setting {setting} is not a rate. Use count/seconds with both above 0, e.g. 60/60, or off."
    )


def _window(rate: Rate, now: float) -> tuple[int, int]:
    index = int(now // rate.seconds)
    retry_after = max(1, int((index + 1) * rate.seconds - now + 0.999))
    return index, retry_after


def _key(scope: str, ident: str, rate: Rate, index: int) -> str:
    # The identity is hashed into the key: usernames may hold characters memcached
    # refuses, and a cache dump should not list who tried to sign in.
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    return f"{KEY_PREFIX}:{scope}:{rate.count}/{rate.seconds}:{digest}:{index}"


def hit(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> Hit:
    """Count one hit for ``ident`` in ``scope`` and return the new state.

    ``cache.add`` then ``cache.incr`` is atomic on Redis, memcached and the
    local-memory cache, so concurrent processes never lose a count.
    """
    now = time.time() if now is None else now
    index, retry_after = _window(rate, now)
    key = _key(scope, ident, rate, index)
    # The key outlives its window by a little so a slow incr never races expiry.
    cache.add(key, 0, timeout=rate.seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.add(key, 0, timeout=rate.seconds + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # a cache that stores nothing (DummyCache, check W103)
            count = 1
    return Hit(count=count, limit=rate.count, retry_after=retry_after)


def peek(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> Hit:
    """The current state without counting a hit."""
    now = time.time() if now is None else now
    index, retry_after = _window(rate, now)
    count = cache.get(_key(scope, ident, rate, index), 0)
    return Hit(count=count, limit=rate.count, retry_after=retry_after)


def reset(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    index, _ = _window(rate, now)
    cache.delete(_key(scope, ident, rate, index))


# --- Signed URLs per user ------------------------------------------------------

ISSUE_SCOPE = "issue"


def check_issue_rate(*, user, actor=None, now: float | None = None) -> None:
    """Count one signing attempt and raise :class:`RateLimited` past the limit.

    The counter belongs to whoever asked: the user on their own pages, refreshes
    and commands; the admin (``actor``) for a preview, so previews can neither use
    up nor escape a limit by acting as someone else. Attempts are counted before
    the access rules run, so refused attempts count as well: hammering the
    endpoint with a blocked account is abuse too.
    """
    rate = parse_rate(settings.SIGMA_RATE_LIMIT, setting="SIGMA_RATE_LIMIT")
    if rate is None:
        return
    who = actor if getattr(actor, "pk", None) else user
    ident = f"user:{getattr(who, 'pk', None)}"
    state = hit(ISSUE_SCOPE, ident, rate, now=now)
    if state.exceeded:
        raise RateLimited(
            f"User pk={getattr(who, 'pk', None)} asked for more than {rate.count} "
            f"signed URLs in {rate.seconds} s.",
            retry_after=state.retry_after,
        )


# --- Failed sign-ins -------------------------------------------------------------

LOGIN_USER_SCOPE = "login-user"
LOGIN_IP_SCOPE = "login-ip"


@dataclass(frozen=True)
class LoginLock:
    """Why sign-in is refused: by account or by network, and for how long."""

    by: str  # "username" or "ip"
    retry_after: int


def _login_rates() -> tuple[Rate | None, Rate | None]:
    return (
        parse_rate(settings.SIGMA_LOGIN_RATE_LIMIT, setting="SIGMA_LOGIN_RATE_LIMIT"),
        parse_rate(settings.SIGMA_LOGIN_IP_RATE_LIMIT, setting="SIGMA_LOGIN_IP_RATE_LIMIT"),
    )


def _username_ident(username: str) -> str:
    # Case-folded: "Alice" and "alice" share one counter, whatever the backend does.
    return (username or "").strip().casefold()


def login_lock(*, username: str, ip: str | None, now: float | None = None) -> LoginLock | None:
    """Whether sign-in is locked for this username or client IP (nothing counted)."""
    user_rate, ip_rate = _login_rates()
    if user_rate is not None and username:
        state = peek(LOGIN_USER_SCOPE, _username_ident(username), user_rate, now=now)
        if state.count >= state.limit:
            return LoginLock(by="username", retry_after=state.retry_after)
    if ip_rate is not None and ip:
        state = peek(LOGIN_IP_SCOPE, ip, ip_rate, now=now)
        if state.count >= state.limit:
            return LoginLock(by="ip", retry_after=state.retry_after)
    return None


def record_login_failure(*, username: str, ip: str | None, now: float | None = None) -> None:
    user_rate, ip_rate = _login_rates()
    if user_rate is not None and username:
        hit(LOGIN_USER_SCOPE, _username_ident(username), user_rate, now=now)
    if ip_rate is not None and ip:
        hit(LOGIN_IP_SCOPE, ip, ip_rate, now=now)
    # The username is user input: repr and a length cap, never the password.
    logger.warning("Failed sign-in for username=%.64r ip=%s", username, ip or "-")


def record_login_success(*, username: str, now: float | None = None) -> None:
    """The account's own counter starts again; the network's does not."""
    user_rate, _ = _login_rates()
    if user_rate is not None and username:
        reset(LOGIN_USER_SCOPE, _username_ident(username), user_rate, now=now)
