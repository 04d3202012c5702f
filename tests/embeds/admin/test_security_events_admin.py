"""The security event trail in the admin: read-only, on the credential page, fed by every form."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from embeds import services
from embeds.models import SecurityEvent
from tests.conftest import CANARY_SECRET
from tests.embeds.admin.conftest import change_form_data

Kind = SecurityEvent.Kind


@pytest.fixture
def event(credential_factory, admin_user):
    credential = credential_factory()
    services.revoke_credential(credential=credential, actor=admin_user, reason="Leaked")
    return SecurityEvent.objects.get()


def test_security_events_are_read_only_even_for_a_superuser(admin_client, event):
    assert admin_client.get(reverse("admin:embeds_securityevent_add")).status_code == 403
    change = reverse("admin:embeds_securityevent_change", args=[event.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # a view page, not a form
    assert admin_client.post(change, {"reason": "edited"}).status_code == 403
    delete = reverse("admin:embeds_securityevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == "Leaked"
    listing = admin_client.get(reverse("admin:embeds_securityevent_changelist"))
    assert b"Credential revoked" in listing.content
    assert b"delete_selected" not in listing.content


def test_credential_page_shows_every_revocation_and_reactivation(admin_client, credential_factory):
    credential = credential_factory()
    revoke = reverse("admin:embeds_credential_revoke", args=[credential.pk])
    activate = reverse("admin:embeds_credential_activate", args=[credential.pk])
    admin_client.post(revoke, {"post": "yes", "reason": "First incident"})
    admin_client.post(activate, {"post": "yes"})
    admin_client.post(revoke, {"post": "yes", "reason": "Second incident"})

    page = admin_client.get(reverse("admin:embeds_credential_change", args=[credential.pk]))
    html = page.content.decode()
    assert "First incident" in html and "Second incident" in html
    assert html.count("Credential revoked") == 2 and "Credential re-activated" in html
    assert CANARY_SECRET not in html
    assert [e.actor_name for e in credential.security_events.all()] == ["admin"] * 3


def test_credential_added_in_the_admin_is_recorded_by_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:embeds_credential_add"),
        {
            "name": "Added",
            "client_id": "client-added",
            "embed_secret": CANARY_SECRET,
            "description": "",
            "owner_email": "owner@example.com",
            "owner_is_admin": "yes",
            "embed_privilege": "on",
        },
    )
    assert response.status_code == 302
    event = SecurityEvent.objects.get()
    assert (event.kind, event.actor_name, event.credential.name) == (
        Kind.CREDENTIAL_CREATED,
        "admin",
        "Added",
    )


def test_embed_change_form_switches_are_recorded(admin_client, embed_factory, credential_factory):
    embed = embed_factory()
    other = credential_factory(name="Other")
    url = reverse("admin:embeds_embed_change", args=[embed.pk])
    data = change_form_data(admin_client.get(url))
    data.pop("is_enabled", None)
    data["disabled_reason"] = "Numbers under review"
    data["credential"] = other.pk
    assert admin_client.post(url, data).status_code == 302

    embed.refresh_from_db()
    assert (embed.is_enabled, embed.credential) == (False, other)
    events = list(embed.security_events.order_by("id"))
    assert [(e.kind, e.actor_name) for e in events] == [
        (Kind.EMBED_CREDENTIAL_SWITCHED, "admin"),
        (Kind.EMBED_DISABLED, "admin"),
    ]
    assert events[1].reason == "Numbers under review"


def test_embed_actions_are_recorded(admin_client, embed_factory):
    embed = embed_factory()
    changelist = reverse("admin:embeds_embed_changelist")
    admin_client.post(
        changelist,
        {
            "action": "disable_selected",
            ACTION_CHECKBOX_NAME: [embed.pk],
            "post": "yes",
            "reason": "Incident 42",
        },
    )
    admin_client.post(changelist, {"action": "enable_selected", ACTION_CHECKBOX_NAME: [embed.pk]})
    assert [(e.kind, e.reason) for e in embed.security_events.order_by("id")] == [
        (Kind.EMBED_DISABLED, "Incident 42"),
        (Kind.EMBED_ENABLED, ""),
    ]


def test_user_kill_switch_on_the_user_page_is_recorded(admin_client, alice):
    url = reverse("admin:auth_user_change", args=[alice.pk])
    data = change_form_data(admin_client.get(url))
    data["sigma_profile-0-is_blocked"] = "on"
    data["sigma_profile-0-blocked_reason"] = "Left the company"
    assert admin_client.post(url, data).status_code == 302

    data = change_form_data(admin_client.get(url))
    data.pop("sigma_profile-0-is_blocked", None)
    assert admin_client.post(url, data).status_code == 302

    events = list(SecurityEvent.objects.filter(subject=alice).order_by("id"))
    assert [(e.kind, e.reason, e.actor_name) for e in events] == [
        (Kind.USER_BLOCKED, "Left the company", "admin"),
        (Kind.USER_UNBLOCKED, "", "admin"),
    ]
