"""A database restart under load, with persistent connections (issue #21, item 1).

A real server process (gunicorn, 2 workers x 4 threads, the production defaults for
connections: CONN_MAX_AGE with CONN_HEALTH_CHECKS) reaches PostgreSQL through a TCP
relay (``tests.integration.relay``). Cutting the relay is what a restart looks like
from the server: every open connection ends and new ones are refused; restoring it
is the database being back. The machine's PostgreSQL itself is never restarted:
other test runs share it.

- while the database is away, requests fail fast: an error page, never a hang;
- once it is back, every request that starts afterwards is served, by the same
  server process: kept connections that the restart broke are replaced before use;
- the same after a restart that happened while the server was idle.

Runs in CI's PostgreSQL + Redis pass and is skipped otherwise.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.integration.relay import Relay
from tests.integration.servers import running_servers, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 4  # concurrent request loops
ENOUGH = 20  # responses to see in each phase
PHASE_LIMIT = 60  # seconds: a phase that has not seen ENOUGH by then fails the test


@dataclass(frozen=True)
class Outcome:
    started: float
    status: int | None  # None: no HTTP answer (the server hung up, or the client timed out)
    error: str = ""


@pytest.fixture
def relay():
    if (
        connection.vendor != "postgresql"
        or "redis" not in settings.CACHES["default"]["BACKEND"].lower()
    ):
        pytest.skip(
            "needs PostgreSQL (a database server to cut off) and Redis (sessions shared "
            "with the server process): CI's second pass, DATABASE_URL=postgres://... "
            "CACHE_URL=redis://..."
        )
    db = connection.settings_dict
    relay = Relay((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    yield relay
    relay.close()


def relayed_database_url(relay: Relay) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@127.0.0.1:{relay.port}/{db['NAME']}"


class Load:
    """CLIENTS threads requesting ``path`` in a loop, each outcome recorded."""

    def __init__(self, server, path: str, cookies: dict[str, str]) -> None:
        self.server, self.path, self.cookies = server, path, cookies
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(CLIENTS)

    def __enter__(self) -> Load:
        for _ in range(CLIENTS):
            self._pool.submit(self._loop)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = self.server.request("GET", self.path, cookies=self.cookies).status
                outcome = Outcome(started, status)
            except OSError as exc:  # includes the client's read timeout
                outcome = Outcome(started, None, type(exc).__name__)
            self.outcomes.append(outcome)

    def since(self, moment: float) -> list[Outcome]:
        return [o for o in list(self.outcomes) if o.started >= moment]

    def wait_for(self, moment: float, predicate, what: str) -> list[Outcome]:
        """Outcomes of requests started after ``moment``, once ``predicate`` holds."""
        deadline = time.monotonic() + PHASE_LIMIT
        while time.monotonic() < deadline:
            seen = self.since(moment)
            if predicate(seen):
                return seen
            time.sleep(0.05)
        pytest.fail(f"{what}: not seen within {PHASE_LIMIT} s; {len(self.since(moment))} seen")


def statuses(outcomes: list[Outcome]) -> set[int | None]:
    return {o.status for o in outcomes}


def test_requests_fail_fast_while_the_database_is_away_and_recover_without_a_restart(
    relay, embed_factory, alice, tmp_path
):
    embed = embed_factory()
    client = Client()
    client.force_login(alice)
    cookies = session_cookie(client)
    env = {
        "DATABASE_URL": relayed_database_url(relay),
        "SIGMA_RATE_LIMIT": "100000000/60",
        "SIGMA_ALLOWED_ORIGINS": "https://app.sigmacomputing.com",
    }
    with running_servers(1, log_dir=tmp_path, env=env) as (server,):
        pid = server.process.pid
        # The embed page reads the database on every request (the audit insert).
        with Load(server, embed.get_absolute_url(), cookies) as load:
            warm = load.wait_for(0, lambda seen: len(seen) >= ENOUGH, "warm requests")
            assert statuses(warm) == {HTTPStatus.OK}
            connections_before = relay.accepted

            cut = time.monotonic()
            relay.cut()
            # Requests that start while the database is away get an answer: a
            # server error (the session lives in Redis; the user row does not).
            away = load.wait_for(
                cut,
                lambda seen: (
                    sum(o.status == HTTPStatus.INTERNAL_SERVER_ERROR for o in seen) >= ENOUGH
                ),
                "error pages while the database is away",
            )
            assert None not in statuses(away), [o.error for o in away if o.status is None]
            assert server.request("GET", "/readyz").status == HTTPStatus.SERVICE_UNAVAILABLE

            relay.restore()
            back = time.monotonic()
            after = load.wait_for(back, lambda seen: len(seen) >= ENOUGH, "requests once back")
            assert statuses(after) == {HTTPStatus.OK}, [o.status for o in after]
        # Kept connections: at most one per worker thread (2 x 4, servers.server_command)
        # for every request served before the cut.
        assert connections_before <= 8 < len(warm)

        # A restart while the server is idle: its kept connections are all stale.
        relay.cut()
        relay.restore()
        idle = [server.request("GET", embed.get_absolute_url(), cookies=cookies) for _ in range(8)]
        assert {r.status for r in idle} == {HTTPStatus.OK}
        assert server.request("GET", "/readyz").status == HTTPStatus.OK
        assert server.process.poll() is None and server.process.pid == pid
