"""N4: behind a proxy every client must not share the proxy's address.

The attack: behind the reference proxy, 50 wrong passwords with random usernames
from one client locked *every* user out of both sign-in doors (one address-wide
counter for everybody), and 5 for a named account locked it for everyone. The
fix: ``TRUSTED_PROXIES``; only from such a peer is ``X-Forwarded-For`` read
(right-most entry that is not a trusted proxy); from anyone else it is ignored.
"""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from embeds.http import client_ip, counting_key, parse_trusted_proxies
from embeds.models import AccessRecord

WRONG = "wrong-password-Guess-42"
PROXY = "10.0.0.2"  # the reference proxy, as the app process sees it
ATTACKER = "203.0.113.7"
VICTIM = "198.51.100.20"
DOORS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]


def through_proxy(client, door, username, password, *, forwarded):
    """A sign-in as the proxy forwards it: it appends the address it saw."""
    return client.post(
        door,
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_fifty_random_usernames_from_one_client_lock_out_only_that_client(
    client, alice, admin_user, behind_proxy
):
    for n in range(50):
        through_proxy(client, "/accounts/login/", f"guess{n}", WRONG, forwarded=ATTACKER)
    locked = through_proxy(client, "/accounts/login/", "someone", WRONG, forwarded=ATTACKER)
    assert locked.status_code == 429

    for door, username in zip(DOORS, ["alice", "admin"], strict=True):
        response = through_proxy(client, door, username, "demo", forwarded=VICTIM)
        assert response.status_code == 302, door
        client.logout()


@pytest.mark.django_db
def test_five_guesses_at_a_named_account_do_not_lock_it_for_everyone(client, alice, behind_proxy):
    for _ in range(5):
        through_proxy(client, "/accounts/login/", "alice", WRONG, forwarded=ATTACKER)
    assert (
        through_proxy(client, "/accounts/login/", "alice", "demo", forwarded=ATTACKER).status_code
        == 429
    )

    response = through_proxy(client, "/accounts/login/", "alice", "demo", forwarded=VICTIM)
    assert response.status_code == 302


@pytest.mark.django_db
def test_client_written_forwarded_entries_give_no_fresh_counter(client, alice, behind_proxy):
    # The client sends its own X-Forwarded-For; the proxy appends the real address.
    for n in range(5):
        through_proxy(
            client, "/accounts/login/", "alice", WRONG, forwarded=f"192.0.2.{n}, {ATTACKER}"
        )
    response = through_proxy(
        client, "/accounts/login/", "alice", "demo", forwarded=f"192.0.2.99, {ATTACKER}"
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_forwarded_for_is_ignored_from_an_untrusted_peer(client, alice, settings, caplog):
    settings.TRUSTED_PROXIES = []  # the default
    caplog.set_level(logging.WARNING)
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": "alice", "password": WRONG},
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "demo"},
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429
    assert f"ip={ATTACKER}" in caplog.text
    assert "192.0.2." not in caplog.text


@pytest.mark.django_db
def test_ipv6_clients_are_counted_per_64(client, alice):
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": "alice", "password": WRONG},
            REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}",
        )
    same_64 = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "demo"},
        REMOTE_ADDR="2001:db8:1:2:ffff:ffff:ffff:fffe",
    )
    other_64 = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "demo"},
        REMOTE_ADDR="2001:db8:1:3::1",
    )
    assert same_64.status_code == 429
    assert other_64.status_code == 302


@pytest.mark.django_db
def test_audit_trail_and_request_id_follow_the_trusted_proxy_rule(
    client, alice, embed_factory, settings
):
    embed_factory(slug="sales")
    client.force_login(alice)

    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    forwarded = client.get(
        "/embeds/sales/",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"192.0.2.1, {VICTIM}",
        HTTP_X_REQUEST_ID="proxy-0123456789",
    )
    settings.TRUSTED_PROXIES = []
    direct = client.get(
        "/embeds/sales/",
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR=VICTIM,
        HTTP_X_REQUEST_ID="forged-0123456789",
    )

    assert forwarded["X-Request-ID"] == "proxy-0123456789"
    assert direct["X-Request-ID"] != "forged-0123456789"
    assert list(AccessRecord.objects.order_by("pk").values_list("client_ip", flat=True)) == [
        VICTIM,
        ATTACKER,
    ]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        (ATTACKER, "192.0.2.1", ATTACKER),  # untrusted peer: header ignored
        (PROXY, "", PROXY),  # nothing forwarded: the proxy itself
        (PROXY, f"192.0.2.1, {ATTACKER}", ATTACKER),  # right-most wins
        (PROXY, f"{ATTACKER}, 10.0.0.3", ATTACKER),  # skip chained trusted proxies
        (PROXY, "10.0.0.3, 10.0.0.4", PROXY),  # only proxies: the peer
        (PROXY, f"{ATTACKER}, not-an-address", PROXY),  # garbage: stop at the proxy
        ("::ffff:203.0.113.7", "", ATTACKER),  # v4 over a v6 socket
        ("", "192.0.2.1", None),
    ],
)
def test_client_ip_reads_forwarded_for_only_from_trusted_proxies(
    rf, settings, peer, forwarded, expected
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_counting_key_groups_ipv6_by_64_and_keeps_ipv4():
    assert counting_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::"
    assert counting_key(ATTACKER) == ATTACKER
    assert counting_key(None) is None


def test_trusted_proxies_refuse_a_bad_entry_naming_its_position_only():
    with pytest.raises(ImproperlyConfigured) as raised:
        parse_trusted_proxies(["10.0.0.0/8", "proxy.internal"])
    assert str(raised.value) == ("Setting TRUSTED_PROXIES entry 2 is not an address or CIDR range.")


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["64:ff9b::", "64:ff9b:1::", "::ffff:0:"])
def test_ipv4_clients_behind_nat64_are_counted_per_ipv4_address(client, alice, prefix):
    """H4: on an IPv6-only front (NAT64/SIIT) every IPv4 client arrives as
    ``<prefix>a.b.c.d``, all inside one /64: one client's failures must not lock
    out the others."""
    for n in range(51):
        client.post(
            "/accounts/login/",
            {"username": f"guess{n}", "password": WRONG},
            REMOTE_ADDR=f"{prefix}cb00:7107",  # 203.0.113.7
        )
    attacker = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "demo"},
        REMOTE_ADDR=f"{prefix}cb00:7107",
    )
    victim = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "demo"},
        REMOTE_ADDR=f"{prefix}c633:6414",  # 198.51.100.20
    )
    assert attacker.status_code == 429
    assert victim.status_code == 302


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("64:ff9b::203.0.113.7", ATTACKER),
        ("64:ff9b:1:2::cb00:7107", ATTACKER),
        ("::ffff:0:203.0.113.7", ATTACKER),
        ("::ffff:203.0.113.7", ATTACKER),
        ("64:ff9b:0:0:1::cb00:7107", "64:ff9b::"),  # outside the /96: an IPv6 client
    ],
)
def test_counting_key_reads_the_ipv4_client_inside_translated_addresses(address, expected):
    assert counting_key(address) == expected
