"""One event trail for security switches, written by the service of each switch."""

from __future__ import annotations

import pytest

from embeds import exceptions, services
from embeds.issuing.identity import identity_for
from embeds.models import SecurityEvent, SigmaProfile
from tests.conftest import CANARY_SECRET

Kind = SecurityEvent.Kind


def kinds(**filters) -> list[str]:
    return list(
        SecurityEvent.objects.filter(**filters)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


def test_every_revocation_and_reactivation_is_kept(credential_factory, admin_user):
    credential = credential_factory(name="Prod")
    services.revoke_credential(credential=credential, actor=admin_user, reason="Leaked in a log")
    services.activate_credential(credential=credential, actor=admin_user, reason="Rotated")
    services.revoke_credential(credential=credential, reason="Offboarding")

    credential.refresh_from_db()
    assert credential.is_active is False and credential.revoked_reason == "Offboarding"
    events = list(credential.security_events.order_by("created_at", "id"))
    assert [(e.kind, e.reason, e.actor_name) for e in events] == [
        (Kind.CREDENTIAL_REVOKED, "Leaked in a log", "admin"),
        (Kind.CREDENTIAL_REACTIVATED, "Rotated", "admin"),
        (Kind.CREDENTIAL_REVOKED, "Offboarding", ""),
    ]
    assert events[0].actor == admin_user
    assert events[0].target == "Prod (%s)" % credential.client_id


def test_reactivation_clears_the_current_revocation_but_not_the_trail(credential_factory):
    credential = credential_factory()
    services.revoke_credential(credential=credential, reason="Suspected leak")
    services.activate_credential(credential=credential)
    credential.refresh_from_db()
    assert (credential.revoked_at, credential.revoked_reason) == (None, "")
    assert credential.security_events.get(kind=Kind.CREDENTIAL_REVOKED).reason == "Suspected leak"


def test_create_and_replace_secret_are_recorded_without_the_secret(admin_user):
    credential = services.create_credential(
        name="New", client_id="client-new", secret=CANARY_SECRET, actor=admin_user
    )
    services.replace_credential_secret(
        credential=credential, secret=CANARY_SECRET[::-1], actor=admin_user
    )
    assert kinds(credential=credential) == [Kind.CREDENTIAL_CREATED, Kind.SECRET_REPLACED]
    for event in SecurityEvent.objects.all():
        text = " ".join([str(event), event.target, event.reason, event.detail])
        assert CANARY_SECRET not in text and CANARY_SECRET[::-1] not in text
        assert credential.secret_fingerprint not in text


def test_disable_and_enable_embed_record_who_and_why(embed_factory, admin_user):
    embed = embed_factory(slug="pipeline", title="Pipeline")
    services.disable_embed(embed=embed, actor=admin_user, reason="Wrong numbers")
    embed.refresh_from_db()
    assert (embed.is_enabled, embed.disabled_reason) == (False, "Wrong numbers")
    services.enable_embed(embed=embed, actor=admin_user)
    embed.refresh_from_db()
    assert (embed.is_enabled, embed.disabled_reason) == (True, "")
    events = list(embed.security_events.order_by("created_at", "id"))
    assert [(e.kind, e.reason, e.target) for e in events] == [
        (Kind.EMBED_DISABLED, "Wrong numbers", "Pipeline (pipeline)"),
        (Kind.EMBED_ENABLED, "", "Pipeline (pipeline)"),
    ]


def test_disable_embed_needs_a_reason(embed_factory):
    embed = embed_factory()
    with pytest.raises(ValueError, match="reason"):
        services.disable_embed(embed=embed, reason="  ")
    assert not SecurityEvent.objects.exists()


def test_switch_credential_names_the_previous_one(embed_factory, credential_factory, admin_user):
    old = credential_factory(name="Old")
    new = credential_factory(name="New")
    embed = embed_factory(credential=old)
    services.switch_embed_credential(embed=embed, credential=new, actor=admin_user)
    embed.refresh_from_db()
    assert embed.credential == new
    event = SecurityEvent.objects.get()
    assert (event.kind, event.credential, event.embed) == (
        Kind.EMBED_CREDENTIAL_SWITCHED,
        new,
        embed,
    )
    assert event.detail == f"Signs with {new} (was {old})."
    # Switching to the credential it already uses changes and records nothing.
    services.switch_embed_credential(embed=embed, credential=new, actor=admin_user)
    assert SecurityEvent.objects.count() == 1


def test_block_and_unblock_user(alice, admin_user):
    services.block_user(user=alice, actor=admin_user, reason="Left the company")
    with pytest.raises(exceptions.UserBlocked):
        identity_for(alice)
    services.unblock_user(user=alice, actor=admin_user)
    assert identity_for(alice).email == "alice@example.com"
    profile = SigmaProfile.objects.get(user=alice)
    assert (profile.is_blocked, profile.blocked_reason) == (False, "")
    assert kinds(subject=alice) == [Kind.USER_BLOCKED, Kind.USER_UNBLOCKED]
    assert SecurityEvent.objects.get(kind=Kind.USER_BLOCKED).reason == "Left the company"


def test_block_user_without_a_mapping_creates_one(db, django_user_model):
    carol = django_user_model.objects.create_user("carol", "carol@example.com", "demo")
    services.block_user(user=carol, reason="Contractor ended")
    assert SigmaProfile.objects.get(user=carol).is_blocked is True


def test_save_embed_routes_switches_through_their_services(
    embed_factory, credential_factory, admin_user
):
    embed = embed_factory(title="Before")
    other = credential_factory(name="Other")
    embed.title = "After"
    embed.is_enabled = False
    embed.disabled_reason = "Maintenance"
    embed.credential = other
    saved = services.save_embed(embed=embed, actor=admin_user)
    assert (saved.title, saved.is_enabled, saved.disabled_reason, saved.credential) == (
        "After",
        False,
        "Maintenance",
        other,
    )
    assert kinds(embed=embed) == [Kind.EMBED_CREDENTIAL_SWITCHED, Kind.EMBED_DISABLED]
    # A plain edit records nothing.
    saved.title = "Again"
    services.save_embed(embed=saved, actor=admin_user)
    assert SecurityEvent.objects.filter(embed=embed).count() == 2
