"""Password guessing: failed sign-ins are counted per username and per IP in the cache."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

LOGIN = "/accounts/login/"
WRONG = "wrong-password-Guess-42"


def post(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_login_locks_username_after_limit_with_friendly_429(settings, client, alice, caplog):
    settings.SIGMA_LOGIN_RATE_LIMIT = "3/900"
    caplog.set_level(logging.DEBUG)
    first = post(client, "alice", WRONG)
    assert first.status_code == 200
    assert "Your username and password didn't match. Please try again." in first.content.decode()
    post(client, "alice", WRONG)
    third = post(client, "alice", WRONG)
    html = third.content.decode()
    assert third.status_code == 429
    assert 1 <= int(third["Retry-After"]) <= 900
    assert "There were too many failed sign-ins for this account." in html
    assert "an administrator of this site can set a new one." in html
    # Locked *before* the password is checked: the right password is refused too.
    right = post(client, "alice", "demo")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert WRONG not in caplog.text and "demo'" not in caplog.text
    assert "Failed sign-in for username='alice' ip=203.0.113.7" in caplog.text


@pytest.mark.django_db
def test_login_lock_ignores_username_case(settings, client, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    post(client, "alice", WRONG)
    post(client, "ALICE", WRONG)
    assert post(client, "Alice", "demo").status_code == 429


@pytest.mark.django_db
def test_login_lock_of_one_username_leaves_others_alone(settings, client, alice, bob):
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    post(client, "alice", WRONG)
    post(client, "alice", WRONG)
    response = post(client, "bob", "demo")
    assert response.status_code == 302
    assert response.url == reverse("embeds:home")


@pytest.mark.django_db
def test_login_locks_client_ip_across_usernames(settings, client, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "100/900"
    settings.SIGMA_LOGIN_IP_RATE_LIMIT = "3/900"
    for name in ("u1", "u2", "u3"):
        post(client, name, WRONG, ip="198.51.100.9")
    locked = post(client, "alice", "demo", ip="198.51.100.9")
    assert locked.status_code == 429
    assert "There were too many failed sign-ins from your network." in locked.content.decode()
    # Another network is not affected.
    assert post(client, "alice", "demo", ip="192.0.2.1").status_code == 302


@pytest.mark.django_db
def test_successful_login_resets_username_counter(settings, client, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "3/900"
    post(client, "alice", WRONG)
    post(client, "alice", WRONG)
    assert post(client, "alice", "demo").status_code == 302
    client.logout()
    post(client, "alice", WRONG)
    post(client, "alice", WRONG)
    assert post(client, "alice", "demo").status_code == 302


@pytest.mark.django_db
def test_login_form_still_renders_while_locked(settings, client, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "1/900"
    post(client, "alice", WRONG)
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
