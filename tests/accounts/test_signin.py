"""Sign-in protection where Django authenticates (django-axes + accounts.signin).

The site's form and the admin's share one set of counters; usernames count in
Django's normalized form; the lock is per username and address, with a cool-off.
The pre-existing assertions live on in tests/security/test_login_protection.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import pytest
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse

from accounts.signin import normalize_username

SITE = "/accounts/login/"
ADMIN = "/admin/login/"
WRONG = "wrong-password-Guess-42"
HOME = "203.0.113.7"
OTHER = "192.0.2.44"


def post(client, door, username, password, ip=HOME):
    return client.post(door, {"username": username, "password": password}, REMOTE_ADDR=ip)


def lock_alice(settings, client, ip=HOME) -> None:
    """Two wrong passwords with a limit of 2: alice is locked from ``ip``."""
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    post(client, SITE, "alice", WRONG, ip=ip)
    post(client, SITE, "alice", WRONG, ip=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_admin_login_locks_superuser_after_limit_and_refuses_right_password(
    settings, client, admin_user, caplog
):
    settings.SIGMA_LOGIN_RATE_LIMIT = "3/900"
    caplog.set_level(logging.INFO)
    assert post(client, ADMIN, "admin", WRONG).status_code == 200
    assert post(client, ADMIN, "admin", WRONG).status_code == 200
    third = post(client, ADMIN, "admin", WRONG)
    assert third.status_code == 429
    assert "There were too many failed sign-ins for this account." in third.content.decode()
    right = post(client, ADMIN, "admin", "demo")
    assert right.status_code == 429
    assert not signed_in(client)
    assert "Failed sign-in for username='admin' ip=203.0.113.7 door='/admin/login/'" in (
        caplog.text
    )
    assert WRONG not in caplog.text and "'demo'" not in caplog.text


@pytest.mark.django_db
def test_site_and_admin_doors_share_one_counter(settings, client, admin_user):
    settings.SIGMA_LOGIN_RATE_LIMIT = "3/900"
    post(client, SITE, "admin", WRONG)
    post(client, ADMIN, "admin", WRONG)
    post(client, SITE, "admin", WRONG)
    assert post(client, ADMIN, "admin", "demo").status_code == 429
    assert post(client, SITE, "admin", "demo").status_code == 429


@pytest.mark.parametrize("spelling", ["ａｌｉｃｅ", "𝐚lice", "ALICE", " alice", "ＡＬＩＣＥ"])
@pytest.mark.django_db
def test_normalized_spellings_of_a_locked_username_are_locked_too(
    settings, client, alice, spelling
):
    lock_alice(settings, client)
    assert post(client, SITE, spelling, "demo").status_code == 429
    assert not signed_in(client)


@pytest.mark.parametrize("spelling", ["ａｌｉｃｅ", "𝐚lice"])
@pytest.mark.django_db
def test_guesses_under_other_spellings_count_for_the_account(settings, client, alice, spelling):
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    post(client, SITE, spelling, WRONG)
    post(client, ADMIN, spelling, WRONG)
    assert post(client, SITE, "alice", "demo").status_code == 429


def test_normalize_username_is_nfkc_and_casefolded():
    assert normalize_username("ａｌｉｃｅ") == "alice"
    assert normalize_username("𝐚lice") == "alice"
    assert normalize_username("Straße") == "strasse"
    assert normalize_username(None) == ""


@pytest.mark.django_db
def test_lock_is_per_address_so_the_real_user_still_signs_in_elsewhere(settings, client, alice):
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    post(client, SITE, "alice", WRONG, ip=HOME)
    post(client, SITE, "alice", WRONG, ip=HOME)
    assert post(client, SITE, "alice", "demo", ip=HOME).status_code == 429
    response = post(client, SITE, "alice", "demo", ip=OTHER)
    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_lock_ends_after_the_cool_off(settings, client, alice):
    lock_alice(settings, client)
    locked = post(client, SITE, "alice", "demo")
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 900
    # The clock is the database's: age the counter past its window.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get(username="alice").attempt_time
        - timedelta(seconds=901)
    )
    assert post(client, SITE, "alice", "demo").status_code == 302


@pytest.mark.django_db
def test_refused_attempts_do_not_extend_the_lock(settings, client, alice):
    lock_alice(settings, client)
    before = AccessAttempt.objects.get(username="alice")
    for _ in range(5):
        assert post(client, SITE, "alice", WRONG).status_code == 429
    after = AccessAttempt.objects.get(username="alice")
    assert (after.failures_since_start, after.attempt_time) == (2, before.attempt_time)


@pytest.mark.django_db
def test_admin_lists_the_lockout_and_deleting_it_lifts_it(settings, client, alice, admin_user):
    lock_alice(settings, client)
    staff = type(client)()
    staff.force_login(admin_user)
    listing = staff.get(reverse("admin:axes_accessattempt_changelist"))
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "alice" in html and HOME in html
    assert WRONG not in html
    attempt = AccessAttempt.objects.get(username="alice", ip_address=HOME)
    staff.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert post(client, SITE, "alice", "demo").status_code == 302


@pytest.mark.django_db
def test_axes_reset_ip_username_command_lifts_a_lock(settings, client, alice):
    lock_alice(settings, client)
    call_command("axes_reset_ip_username", HOME, "alice", stdout=StringIO())
    assert post(client, SITE, "alice", "demo").status_code == 302


@pytest.mark.django_db
def test_every_failed_attempt_is_logged_and_recorded_without_password(
    settings, client, alice, caplog
):
    settings.SIGMA_LOGIN_RATE_LIMIT = "2/900"
    caplog.set_level(logging.DEBUG)
    post(client, SITE, "Alice", WRONG)
    post(client, ADMIN, "ａｌｉｃｅ", WRONG)
    post(client, SITE, "alice", "demo")  # refused: locked
    lines = [r.getMessage() for r in caplog.records if r.name == "accounts.signin"]
    assert lines == [
        "Failed sign-in for username='Alice' ip=203.0.113.7 door='/accounts/login/' "
        "key='alice' locked=no",
        "Failed sign-in for username='ａｌｉｃｅ' ip=203.0.113.7 door='/admin/login/' "
        "key='alice' locked=username",
        "Failed sign-in for username='alice' ip=203.0.113.7 door='/accounts/login/' "
        "key='alice' locked=username",
    ]
    assert list(
        AccessFailureLog.objects.order_by("pk").values_list("username", "path_info", "locked_out")
    ) == [("Alice", SITE, False), ("ａｌｉｃｅ", ADMIN, True), ("alice", SITE, True)]
    assert WRONG not in caplog.text and "demo" not in caplog.text
    stored = list(AccessAttempt.objects.values_list("get_data", "post_data"))
    assert stored and all(row == ("", "") for row in stored)


@pytest.mark.django_db
def test_successful_sign_in_gives_back_the_address_slot(settings, client, alice):
    settings.SIGMA_LOGIN_IP_RATE_LIMIT = "2/900"
    for _ in range(3):
        assert post(client, SITE, "alice", "demo").status_code == 302
        client.logout()
    assert AccessAttempt.objects.get(username="").failures_since_start == 0
    assert AccessLog.objects.filter(username="alice").count() == 3


@pytest.mark.django_db
def test_authenticate_without_a_request_is_refused(alice):
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="alice", password="demo")


@pytest.mark.django_db
def test_sign_out_confirms_with_cancel_then_says_signed_out(client, django_user_model):
    user = django_user_model.objects.create_user("dora", "dora@example.com", "pw-not-used-1")
    client.force_login(user)

    confirm = client.get("/accounts/logout/").content.decode()
    assert "Sign out of dora?" in confirm
    assert '<a class="button secondary" href="/">Cancel</a>' in confirm

    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert '<p class="notice" role="status">You are signed out.</p>' in response.content.decode()
    # Shown once.
    assert "You are signed out." not in client.get("/accounts/login/").content.decode()
