"""Abuse limits kept in the Django cache: signed URLs per user, error reports.

Failed sign-ins are counted elsewhere: in the database, where Django authenticates
(django-axes; ``accounts.signin``).

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
from typing import TYPE_CHECKING

from django.core.cache import cache

from embeds.conf import Rate, parse_rate, sigma_settings
from embeds.exceptions import RateLimited

__all__ = ["Rate", "parse_rate"]  # re-exported: the rate type lives in embeds.conf

if TYPE_CHECKING:
    from embeds.issuing.audit import AnyUser

logger = logging.getLogger(__name__)

KEY_PREFIX = "sigma-rl"


@dataclass(frozen=True)
class Hit:
    """The state of one counter after (or without) counting a hit."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


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
    """Count one hit for ``ident`` in ``scope`` and return the new state."""
    now = time.time() if now is None else now
    index, retry_after = _window(rate, now)
    count = _count(_key(scope, ident, rate, index), rate)
    return Hit(count=count, limit=rate.count, retry_after=retry_after)


def _count(key: str, rate: Rate) -> int:
    """Add one to the counter ``key`` and return its new value.

    ``cache.incr`` (after ``cache.add`` for a new window) is atomic on Redis,
    memcached and the local-memory cache, so concurrent processes never lose a
    count; ``add`` never overwrites a counter another process created first.
    """
    try:
        # Once the window's counter exists (every hit but the first), incr alone.
        return cache.incr(key)
    except ValueError:
        # The key outlives its window by a little so a slow incr never races expiry.
        cache.add(key, 0, timeout=counter_timeout(rate))
        try:
            return cache.incr(key)
        except ValueError:  # a cache that stores nothing (DummyCache, check W103)
            return 1


def counter_timeout(rate: Rate) -> int:
    """Seconds a window's counter lives: its window, and a little more."""
    return rate.seconds + 5


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


@dataclass(frozen=True)
class IssueCounter:
    """Where one signing attempt of ``who`` is counted, for callers that count it
    themselves (``snapshots.lookup`` puts the count in its one cache round trip)."""

    rate: Rate
    key: str  # the counter's cache key, before the cache's own prefix
    retry_after: int
    who_pk: object


def issue_counter(
    *, user: AnyUser, actor: AnyUser | None = None, now: float | None = None
) -> IssueCounter | None:
    """The counter a signing attempt goes to; None when SIGMA_RATE_LIMIT is off.

    The counter belongs to whoever asked: the user on their own pages, refreshes
    and commands; the admin (``actor``) for a preview, so previews can neither use
    up nor escape a limit by acting as someone else.
    """
    rate = sigma_settings.rate("RATE_LIMIT")
    if rate is None:
        return None
    now = time.time() if now is None else now
    who = actor if getattr(actor, "pk", None) else user
    who_pk = getattr(who, "pk", None)
    index, retry_after = _window(rate, now)
    return IssueCounter(rate, _key(ISSUE_SCOPE, f"user:{who_pk}", rate, index), retry_after, who_pk)


def count(counter: IssueCounter) -> int:
    """Count one attempt on ``counter``; its new value."""
    return _count(counter.key, counter.rate)


def raise_if_exceeded(counter: IssueCounter, count: int) -> None:
    """:class:`RateLimited` when ``count`` (the counter after this hit) is past the limit."""
    if count > counter.rate.count:
        raise RateLimited(
            f"User pk={counter.who_pk} asked for more than {counter.rate.count} "
            f"signed URLs in {counter.rate.seconds} s.",
            retry_after=counter.retry_after,
        )


def check_issue_rate(
    *,
    user: AnyUser,
    actor: AnyUser | None = None,
    now: float | None = None,
    counted: int | None = None,
) -> None:
    """Count one signing attempt and raise :class:`RateLimited` past the limit.

    Attempts are counted before the access rules run, so refused attempts count as
    well: hammering the endpoint with a blocked account is abuse too. ``counted``
    is the counter's value when the caller has already counted this attempt
    (``snapshots.lookup``); it is then checked, not counted again.
    """
    counter = issue_counter(user=user, actor=actor, now=now)
    if counter is None:
        return
    if counted is None:
        counted = count(counter)
    raise_if_exceeded(counter, counted)
