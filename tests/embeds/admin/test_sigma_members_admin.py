"""Embeds > Sigma embed users: the admin page of manage.py sigma_members."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from embeds.admin import remote as remote_admin
from embeds.models import SecurityEvent
from tests.sigma_document_org import DocumentSigma, member

URL = "admin:embeds_embed_sigma_members"


@pytest.fixture
def sigma(monkeypatch, user_factory) -> DocumentSigma:
    org = DocumentSigma()
    org.members.append(member("m-bob", "bob@example.com", "View", kind="embed"))
    monkeypatch.setattr(remote_admin, "api_client", org.client)
    user_factory("alice", teams=["Sales"])
    user_factory("bob", teams=["Sales"], is_active=False)
    return org


def test_page_lists_stale_embed_users(admin_client, sigma):
    page = admin_client.get(reverse(URL)).content.decode()

    assert "bob@example.com" in page and "host user &#x27;bob&#x27; is deactivated" in page
    assert "idle@example.com" in page and "(inactive in Sigma)" in page
    assert "alice@example.com" not in page  # alice is active and mapped
    assert not any(r.method == "DELETE" for r in sigma.requests)


def test_superuser_deactivates_the_chosen_ones_and_each_is_recorded(admin_client, sigma):
    response = admin_client.post(
        reverse(URL), {"member": ["m-bob", "m-alice"], "reason": "left the company"}, follow=True
    )

    # m-alice is not stale: posted or not, it is left alone.
    assert [r.url.path for r in sigma.requests if r.method == "DELETE"] == ["/v2/members/m-bob"]
    assert "1 embed user deactivated in Sigma." in response.content.decode()
    [event] = SecurityEvent.objects.all()
    assert (event.kind, event.target, event.reason) == (
        SecurityEvent.Kind.SIGMA_MEMBER_DEACTIVATED,
        "bob@example.com",
        "left the company",
    )


def test_staff_without_superuser_may_look_but_not_deactivate(client, sigma, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="demo", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_embed"))
    client.force_login(staff)

    page = client.get(reverse(URL)).content.decode()
    refused = client.post(reverse(URL), {"member": ["m-bob"]})

    assert "Only a superuser can deactivate them." in page and 'type="checkbox"' not in page
    assert refused.status_code == 403
    assert not any(r.method == "DELETE" for r in sigma.requests)
    assert not SecurityEvent.objects.exists()


def _lists(sigma: DocumentSigma) -> int:
    return sigma.operation_ids.count("listMembers")


def test_a_reload_reads_sigmas_member_list_from_the_cache(admin_client, sigma):
    first = admin_client.get(reverse(URL)).context["stale"]
    asked = len(sigma.requests)

    again = admin_client.get(reverse(URL)).context["stale"]

    assert _lists(sigma) >= 1
    assert len(sigma.requests) == asked  # no REST call at all, not even a token
    assert again == first and "bob@example.com" in [m.email for m in again]


def test_refresh_and_a_deactivation_read_the_list_from_sigma_again(admin_client, sigma):
    admin_client.get(reverse(URL))
    once = _lists(sigma)

    page = admin_client.get(reverse(URL), {"refresh": "1"}).content.decode()
    refreshed = _lists(sigma)
    admin_client.post(reverse(URL), {"member": ["m-bob"], "reason": "left"})
    posted = _lists(sigma)
    after = admin_client.get(reverse(URL)).content.decode()

    assert 'href="?refresh=1"' in page
    assert refreshed > once  # ?refresh reads Sigma again
    assert posted > refreshed  # a deactivation works from Sigma's list of now
    assert _lists(sigma) > posted  # and drops the cached one
    assert "m-bob" not in after
