"""A burst of parallel guesses gets no more password checks than the limit.

Each attempt takes its slot with one conditional UPDATE before the password is
checked (accounts.signin). Proved on PostgreSQL, where parallel transactions really
overlap; SQLite cannot run it (see the skip reason).
"""

from __future__ import annotations

import os
import threading

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client

GUESSES = 30
LIMIT = 5
WRONG = "wrong-password-Guess-42"

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")),
    reason="SQLite cannot run parallel writers: its shared-cache in-memory test "
    "database answers concurrent transactions with 'database table is locked' instead "
    "of queueing them, so the threads would test SQLite's errors, not the counting. "
    "Run with DATABASE_URL=postgres://... (CI's second pass does).",
)


def _burst(monkeypatch, doors: list[str], username: str, ip: str) -> tuple[int, list[int]]:
    """Fire one guess per door entry at once; return (password checks, statuses)."""
    checks: list[int] = []
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            checks.append(1)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    barrier = threading.Barrier(len(doors))

    def guess(door: str) -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(door, {"username": username, "password": WRONG}, REMOTE_ADDR=ip)
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(door,)) for door in doors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return len(checks), statuses


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_get_no_more_password_checks_than_the_limit(settings, monkeypatch, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = f"{LIMIT}/900"
    doors = ["/accounts/login/", "/admin/login/"] * (GUESSES // 2)
    checks, statuses = _burst(monkeypatch, doors, "alice", "203.0.113.7")
    assert checks == LIMIT
    assert sorted(statuses) == [200] * (LIMIT - 1) + [429] * (GUESSES - LIMIT + 1)
    assert AccessAttempt.objects.get(username="alice").failures_since_start == LIMIT


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_across_usernames_respect_the_address_limit(settings, monkeypatch, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "100/900"
    settings.SIGMA_LOGIN_IP_RATE_LIMIT = f"{LIMIT}/900"
    # Different spellings are one account; the address counter covers them all.
    checks, _ = _burst(monkeypatch, ["/accounts/login/"] * GUESSES, "ａｌｉｃｅ", "198.51.100.9")
    assert checks == LIMIT
    assert AccessAttempt.objects.get(username="").failures_since_start == LIMIT
