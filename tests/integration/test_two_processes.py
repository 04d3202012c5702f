"""Two real server processes on one database and cache (issue #12, item 5).

Runs in CI's PostgreSQL + Redis pass and is skipped otherwise: with SQLite and the
local-memory cache two processes share neither revocations nor counters.

- a revoke through one process is refused on the very next request to the other;
- the signing rate limit counts requests to both processes together;
- under a concurrent burst against both, every issued URL has exactly one audit
  row, and no request that started after the revoke returned gets a URL.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from html import unescape
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from embeds.models import AccessRecord
from tests.conftest import CANARY_SECRET
from tests.integration.servers import CSRF_INPUT, Server, running_servers, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

RATE = 6  # signed URLs per user in the servers' window (SIGMA_RATE_LIMIT)
BURST_USERS = 12
BURST_PER_USER_BEFORE = 4
BURST_THREADS = 8
REVOKE_AFTER = 10  # completed burst requests before the revoke is sent


def _shared_backends() -> bool:
    return (
        connection.vendor == "postgresql"
        and "redis" in settings.CACHES["default"]["BACKEND"].lower()
    )


@pytest.fixture
def servers(transactional_db, tmp_path):
    if not _shared_backends():
        pytest.skip(
            "needs PostgreSQL and Redis shared by two processes: run with "
            "DATABASE_URL=postgres://... CACHE_URL=redis://... (CI's second pass)"
        )
    # A window far longer than the test: the count never restarts at a boundary.
    env = {
        "SIGMA_RATE_LIMIT": f"{RATE}/100000000",
        # Production-like: https origins only, so the system checks pass with DEBUG off.
        "SIGMA_ALLOWED_ORIGINS": "https://app.sigmacomputing.com",
    }
    # Fresh processes per test: the flush between tests renumbers content types,
    # which a process that lived through it would still hold in its own cache.
    with running_servers(2, log_dir=tmp_path, env=env) as started:
        yield started


def signed_in(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return session_cookie(client)


def jti_of_page(body: str) -> str:
    src = unescape(re.search(r'data-src="([^"]+)"', body).group(1))
    token = parse_qs(urlsplit(src).query)[":jwt"][0]
    claims = jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")
    return claims["jti"]


def refusal_code(body: str) -> str | None:
    found = re.search(r'data-refusal="([^"]+)"', body)
    return found.group(1) if found else None


def revoke_through(server: Server, credential, admin_cookie: dict[str, str]) -> None:
    """Revoke with the admin's own confirmation page, as an administrator would."""
    path = reverse("admin:embeds_credential_revoke", args=[credential.pk])
    page = server.request("GET", path, cookies=admin_cookie)
    assert page.status == HTTPStatus.OK, page.status
    token = CSRF_INPUT.search(page.body).group(1)
    cookies = {**admin_cookie, settings.CSRF_COOKIE_NAME: page.cookies[settings.CSRF_COOKIE_NAME]}
    done = server.request(
        "POST",
        path,
        cookies=cookies,
        form={"csrfmiddlewaretoken": token, "post": "yes", "reason": "two-process test"},
    )
    assert done.status == HTTPStatus.FOUND, (done.status, done.body[:300])


@pytest.fixture
def scene(user_factory, embed_factory, admin_user):
    embed = embed_factory()
    return embed, embed.credential, signed_in(admin_user)


def test_revoke_through_one_process_is_refused_on_the_next_request_to_the_other(
    servers, scene, alice
):
    embed, credential, admin_cookie = scene
    first, second = servers
    alice_cookie = signed_in(alice)
    path = embed.get_absolute_url()
    # Both processes have signed (and cached what they read) before the revoke.
    for server in (second, first):
        assert server.request("GET", path, cookies=alice_cookie).status == HTTPStatus.OK

    revoke_through(first, credential, admin_cookie)

    after = second.request("GET", path, cookies=alice_cookie)
    assert after.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert refusal_code(after.body) == "credential_inactive"
    assert ":jwt=" not in after.body
    assert AccessRecord.objects.filter(outcome="issued").count() == 2


def test_signing_rate_limit_counts_across_both_processes(servers, scene, alice):
    embed, _, _ = scene
    cookie = signed_in(alice)
    statuses = [
        servers[n % 2].request("GET", embed.get_absolute_url(), cookies=cookie).status
        for n in range(RATE + 2)
    ]
    # Per-process counters would let 2 x RATE through; one shared counter lets RATE.
    assert statuses == [HTTPStatus.OK] * RATE + [HTTPStatus.TOO_MANY_REQUESTS] * 2
    assert AccessRecord.objects.filter(outcome="issued").count() == RATE
    assert AccessRecord.objects.filter(rule="rate_limited").count() == 2


@dataclass(frozen=True)
class Outcome:
    started: float
    status: int
    body: str


def test_concurrent_burst_issues_each_url_once_and_none_after_the_revoke_returned(
    servers, scene, user_factory
):
    embed, credential, admin_cookie = scene
    cookies = [signed_in(user_factory(f"burst-{n}", teams=["Sales"])) for n in range(BURST_USERS)]
    path = embed.get_absolute_url()
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def fetch(server: Server, cookie: dict[str, str]) -> None:
        started = time.monotonic()
        response = server.request("GET", path, cookies=cookie)
        with lock:
            outcomes.append(Outcome(started, response.status, response.body))

    with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:
        before = [
            pool.submit(fetch, servers[(user + n) % 2], cookies[user])
            for n in range(BURST_PER_USER_BEFORE)
            for user in range(BURST_USERS)
        ]
        for done, future in enumerate(as_completed(before), start=1):
            future.result()
            if done == REVOKE_AFTER:
                # The rest of the burst is still in flight against both processes.
                revoke_through(servers[0], credential, admin_cookie)
                revoked = time.monotonic()
        after = [
            pool.submit(fetch, servers[user % 2], cookies[user]) for user in range(BURST_USERS)
        ]
        for future in after:
            future.result()

    issued = [o for o in outcomes if o.status == HTTPStatus.OK]
    refused = [o for o in outcomes if o.status != HTTPStatus.OK]
    assert len(issued) >= REVOKE_AFTER  # the burst really signed before the revoke
    assert sum(o.started > revoked for o in outcomes) >= BURST_USERS
    # Nothing that started after the revoke returned got a URL.
    assert all(o.status == HTTPStatus.SERVICE_UNAVAILABLE for o in outcomes if o.started > revoked)
    assert {refusal_code(o.body) for o in refused} == {"credential_inactive"}
    # Every URL handed out has exactly one audit row, and no audit row lacks a URL.
    jtis = sorted(jti_of_page(o.body) for o in issued)
    assert len(set(jtis)) == len(jtis)
    recorded = sorted(
        AccessRecord.objects.filter(outcome="issued", credential=credential).values_list(
            "jti", flat=True
        )
    )
    assert recorded == jtis
    assert AccessRecord.objects.filter(rule="credential_inactive").count() == len(refused)
