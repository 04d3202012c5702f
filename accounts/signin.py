"""Sign-in protection on every door where Django authenticates (django-axes 8).

``axes.backends.AxesStandaloneBackend`` sits first in ``AUTHENTICATION_BACKENDS``,
so every call of ``django.contrib.auth.authenticate(request, ...)`` is covered:
``/accounts/login/``, ``/admin/login/`` and any view added later. A call without a
request is refused by axes (there is no address to count against).

What this module adds to stock axes, and why:

* **Atomic counting.** Stock axes checks the lock *before* the password and counts
  the failure *after* it, so N parallel guesses are all checked (measured: 30 of 30
  with a limit of 5, see docs/security.md). Here every attempt first takes a slot
  with one conditional ``UPDATE … WHERE failures < limit`` on its counter row; only
  an attempt that got a slot reaches the password check. A conditional UPDATE is
  atomic on PostgreSQL (row lock, WHERE re-checked after waiting) and on SQLite
  (one writer at a time). A successful sign-in gives its slots back.
* **Two counters**, both ``axes.AccessAttempt`` rows: one per normalized username
  and client address (``SIGMA_LOGIN_RATE_LIMIT``, default 5 per 900 s), so guessing
  cannot lock the real user out from everywhere; and one per address for all
  usernames (``SIGMA_LOGIN_IP_RATE_LIMIT``, default 50 per 900 s; its row has an
  empty username). A lock lasts the window from the last counted failure; refused
  attempts are not counted, so hammering a lock does not extend it.
* **Normalized usernames**, as Django's auth does (NFKC, ``UsernameField``), and
  case-folded: ``ａｌｉｃｅ``, ``𝐚lice`` and ``ALICE`` all count as ``alice``.
* **One log line per failed attempt** (username as typed, address, door; never the
  password) and an ``axes.AccessFailureLog`` row; the POST body is never stored.

Lockouts are listed in the admin (*Axes › Access attempts*); deleting a row lifts
it, as do ``manage.py axes_reset_ip_username IP USERNAME``, ``axes_reset_ip IP``
and ``axes_reset_username USERNAME`` (use the normalized username).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from embeds.http import client_ip as request_client_ip
from embeds.http import counting_key
from embeds.issuing.ratelimit import Rate, parse_rate

logger = logging.getLogger(__name__)

# The address-wide counter is the row with this username; no account can have it
# (an empty username never reaches authenticate() through Django's forms).
ADDRESS_ROW_USERNAME = ""
# Stands in for a missing REMOTE_ADDR, so such requests share one counter instead
# of each getting a fresh one (a NULL address would not be unique).
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104  (a key, never bound)
USERNAME_MAX = 255  # axes' column


@dataclass(frozen=True)
class SignInLock:
    """Why sign-in is refused: by account (+ address) or by network, and for how long."""

    by: str  # "username" or "ip"
    retry_after: int


class _AddressLimitReached(Exception):
    """Rolls back the account slot when the address has none left."""


def normalize_username(raw: object) -> str:
    """The key failures are counted under: NFKC (as Django's ``UsernameField``),
    case-folded and stripped, so look-alike spellings share one counter."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    return unicodedata.normalize("NFKC", text.casefold())[:USERNAME_MAX]


def username_key(request: HttpRequest | None, credentials: dict | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the normalized username of an attempt."""
    field = get_user_model().USERNAME_FIELD
    if credentials:
        return normalize_username(credentials.get(field))
    data = getattr(request, "POST", None) or {}
    return normalize_username(data.get(field))


def client_ip(request: HttpRequest) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the key failures are counted under per address.

    The app's one reading of the client address (``embeds.http.client_ip``:
    ``X-Forwarded-For`` only from a peer in ``TRUSTED_PROXIES``, so a client cannot
    pick a fresh key per attempt, and behind the proxy each client has its own),
    with IPv6 counted per /64 (``embeds.http.counting_key``).
    """
    return counting_key(request_client_ip(request)) or UNKNOWN_ADDRESS


def account_rate() -> Rate | None:
    return parse_rate(settings.SIGMA_LOGIN_RATE_LIMIT, setting="SIGMA_LOGIN_RATE_LIMIT")


def address_rate() -> Rate | None:
    return parse_rate(settings.SIGMA_LOGIN_IP_RATE_LIMIT, setting="SIGMA_LOGIN_IP_RATE_LIMIT")


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    """``AXES_FAILURE_LIMIT``: the per-account limit (axes' own helpers read it)."""
    rate = account_rate()
    return rate.count if rate else 2**31 - 1


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: the longer of the two windows, so axes' clean-up of
    expired rows never drops a counter that is still running."""
    seconds = [rate.seconds for rate in (account_rate(), address_rate()) if rate]
    return timedelta(seconds=max(seconds, default=900))


def _take_slot(
    *, username: str, ip: str, rate: Rate, now: datetime, door: str
) -> tuple[bool, AccessAttempt | None]:
    """Count one attempt on the (username, ip) row unless its window is full."""
    threshold = now - timedelta(seconds=rate.seconds)
    for _ in range(2):  # the row may be deleted (success, admin) between the two steps
        row, _created = AccessAttempt.objects.get_or_create(
            username=username,
            ip_address=ip,
            user_agent="",
            defaults={
                "failures_since_start": 0,
                "path_info": door,
                "http_accept": "",
                "get_data": "",
                # Never the POST body: it holds the password.
                "post_data": "",
            },
        )
        # Security: the check and the count are one statement, so parallel
        # attempts can never all see "below the limit" (the stock axes race).
        taken = (
            AccessAttempt.objects.filter(pk=row.pk)
            .filter(Q(failures_since_start__lt=rate.count) | Q(attempt_time__lt=threshold))
            .update(
                failures_since_start=Case(
                    When(attempt_time__lt=threshold, then=Value(1)),
                    default=F("failures_since_start") + 1,
                ),
                attempt_time=now,
                path_info=door,
            )
        )
        if taken:
            # Our UPDATE holds the row lock until the transaction commits, so this
            # read sees the slot this attempt took, whatever runs in parallel.
            return True, AccessAttempt.objects.filter(pk=row.pk).first()
        current = AccessAttempt.objects.filter(pk=row.pk).first()
        if current is not None:
            return False, current
    return False, None


def _retry_after(row: AccessAttempt | None, rate: Rate, now: datetime) -> int:
    if row is None:
        return rate.seconds
    remaining = (row.attempt_time + timedelta(seconds=rate.seconds) - now).total_seconds()
    return max(1, math.ceil(remaining))


def _door(request: HttpRequest) -> str:
    return (getattr(request, "path", "") or "-")[:USERNAME_MAX]


class SignInHandler(AxesDatabaseHandler):
    """axes' database handler with atomic, two-counter slot taking (``AXES_HANDLER``)."""

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        lock = self.take_attempt(request, credentials)
        if lock is None:
            return True
        request.signin_lock = lock
        request.axes_locked_out = True
        return False

    def take_attempt(self, request, credentials: dict | None) -> SignInLock | None:
        """Take one slot on the account's and the address's counter, or say why not.

        Both or neither: when the address has no slot left, the account's slot is
        rolled back. Rows are always locked account first, then address, so two
        attempts never wait on each other in a cycle.
        """
        now = timezone.now()
        ip = request.axes_ip_address
        username = username_key(request, credentials)
        door = _door(request)
        user_rate, ip_rate = account_rate(), address_rate()
        taken: list[str] = []
        numbers: dict[str, AccessAttempt | None] = {}
        try:
            with transaction.atomic():
                if user_rate is not None and username:
                    ok, row = _take_slot(
                        username=username, ip=ip, rate=user_rate, now=now, door=door
                    )
                    if not ok:
                        return SignInLock("username", _retry_after(row, user_rate, now))
                    taken.append("username")
                    numbers["username"] = row
                if ip_rate is not None:
                    ok, row = _take_slot(
                        username=ADDRESS_ROW_USERNAME, ip=ip, rate=ip_rate, now=now, door=door
                    )
                    if not ok:
                        raise _AddressLimitReached(_retry_after(row, ip_rate, now))
                    taken.append("ip")
                    numbers["ip"] = row
        except _AddressLimitReached as full:
            return SignInLock("ip", full.args[0])
        request.signin_slots = tuple(taken)
        request.signin_slot_rows = numbers
        return None

    def exhausted(self, request, credentials: dict | None) -> SignInLock | None:
        """After a failed check: did that attempt use the last slot of a counter?

        Decided by the slot this attempt took (read under its own row lock), not by
        re-reading the counter: a parallel attempt that took a later slot must not
        turn this one's answer into a lockout.
        """
        now = timezone.now()
        rows = getattr(request, "signin_slot_rows", {})
        for by, rate in (("username", account_rate()), ("ip", address_rate())):
            row = rows.get(by)
            if rate is None or row is None:
                continue
            if row.failures_since_start >= rate.count:
                return SignInLock(by, _retry_after(row, rate, now))
        return None

    def get_failures(self, request, credentials: dict | None = None) -> int:
        rate = account_rate()
        username = username_key(request, credentials)
        if rate is None or not username:
            return 0
        row = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address, user_agent=""
        ).first()
        if row is None or row.attempt_time < timezone.now() - timedelta(seconds=rate.seconds):
            return 0
        return row.failures_since_start

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """Log every failed or refused attempt; counting already happened."""
        if request is None:
            logger.warning("Failed sign-in without a request (not counted)")
            return
        lock = getattr(request, "signin_lock", None)
        if lock is None and getattr(request, "signin_slots", None):
            lock = self.exhausted(request, credentials)
            if lock is not None:
                request.signin_lock = lock
                request.axes_locked_out = True
        request.axes_credentials = credentials
        field = get_user_model().USERNAME_FIELD
        typed = request.POST.get(field) if request.method == "POST" else None
        if typed is None:
            typed = (credentials or {}).get(field) or ""
        door = _door(request)
        # The username is user input: repr and a length cap. Never the password.
        logger.warning(
            "Failed sign-in for username=%.64r ip=%s door=%.64r key=%.64r locked=%s",
            typed,
            request.axes_ip_address,
            door,
            get_client_username(request, credentials),
            lock.by if lock else "no",
        )
        AccessFailureLog.objects.create(
            username=str(typed)[:USERNAME_MAX],
            ip_address=request.axes_ip_address,
            user_agent=request.axes_user_agent,
            http_accept=request.axes_http_accept,
            path_info=door,
            locked_out=lock is not None,
        )
        self.remove_out_of_limit_failure_logs(username=str(typed)[:USERNAME_MAX])

    def user_logged_in(self, sender, request, user, **kwargs):
        """Axes' access log and reset of the account counter; give the address slot back."""
        super().user_logged_in(sender, request, user, **kwargs)
        if "ip" in getattr(request, "signin_slots", ()):
            AccessAttempt.objects.filter(
                username=ADDRESS_ROW_USERNAME,
                ip_address=request.axes_ip_address,
                user_agent="",
                failures_since_start__gt=0,
            ).update(failures_since_start=F("failures_since_start") - 1)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the friendly page, 429 with ``Retry-After``."""
    lock = getattr(request, "signin_lock", None) or SignInLock(
        "username", int(cool_off(request).total_seconds())
    )
    minutes = max(1, math.ceil(lock.retry_after / 60))
    response = render(
        request,
        "registration/login_locked.html",
        {"lock": lock, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(lock.retry_after)
    return response
