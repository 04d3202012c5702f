"""Every write is a service: the admin and the config import write only through
``embeds.services``, which invalidate the issuing path's cache and record the changes
that decide what a user sees; the signals left cover only the site's own users and
groups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.urls import reverse

from embeds.models import AccountType, SecurityEvent, Team, UserAttribute
from tests.embeds.admin.conftest import change_form_data

pytestmark = pytest.mark.django_db

EMBEDS = Path(__file__).resolve().parents[3] / "embeds"
ORM_WRITE = re.compile(
    r"\.(save|delete|create|update|bulk_create|bulk_update|update_or_create|get_or_create"
    r"|set|add|remove|clear)\("
)
Kind = SecurityEvent.Kind


def test_admin_and_config_modules_write_nothing_themselves():
    """The grep of the issue: no ORM write call in embeds/admin or embeds/config."""
    hits = [
        f"{path.relative_to(EMBEDS.parent)}:{number}: {line.strip()}"
        for folder in ("admin", "config")
        for path in sorted((EMBEDS / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ORM_WRITE.search(line)
    ]
    assert hits == []


def test_signals_left_connected_are_only_for_the_sites_users_and_groups():
    connected = set()
    signals = {
        "pre_save": pre_save,
        "post_save": post_save,
        "pre_delete": pre_delete,
        "post_delete": post_delete,
        "m2m_changed": m2m_changed,
    }
    for name, signal in signals.items():
        for model in apps.get_models(include_auto_created=True):
            live = signal._live_receivers(model)
            receivers = [r for group in live for r in group] if isinstance(live, tuple) else live
            for receiver in receivers:
                if receiver.__module__.startswith("embeds."):
                    connected.add((name, model._meta.label, receiver.__name__))
    assert connected == {
        ("post_save", "auth.User", "_on_user_write"),
        ("post_delete", "auth.User", "_on_write"),
        ("m2m_changed", "auth.User_groups", "_on_write"),
        ("post_delete", "auth.Group", "_on_write"),
    }


def events(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


def test_user_page_records_mapping_and_attribute_changes_with_the_actor(
    admin_client, admin_user, alice
):
    marketing = Team.objects.create(name="Marketing")
    region = UserAttribute.objects.get(name="region")
    url = reverse("admin:auth_user_change", args=[alice.pk])
    data = change_form_data(admin_client.get(url))
    data["sigma_profile-0-teams"] = [*data["sigma_profile-0-teams"], marketing.pk]
    data["attributes-0-attribute"] = region.pk
    data["attributes-0-value"] = "East"

    assert admin_client.post(url, data).status_code == 302

    (mapping,) = events(Kind.USER_MAPPING_CHANGED)
    assert (mapping.subject, mapping.actor, mapping.target) == (alice, admin_user, "alice")
    assert mapping.detail == "teams: +Marketing"
    assert mapping.created_at is not None
    (attributes,) = events(Kind.USER_ATTRIBUTES_CHANGED)
    assert (attributes.subject, attributes.actor) == (alice, admin_user)
    assert attributes.detail == "region: West -> East"


def test_group_page_records_the_group_mapping(admin_client, admin_user, team_factory):
    group = Group.objects.create(name="Analysts")
    team_factory("Marketing")
    url = reverse("admin:auth_group_change", args=[group.pk])
    data = change_form_data(admin_client.get(url))
    data["sigma_mapping-0-teams"] = [Team.objects.get(name="Marketing").pk]
    data["sigma_mapping-0-account_type"] = AccountType.objects.get(name="Build").pk

    assert admin_client.post(url, data).status_code == 302

    (event,) = events(Kind.GROUP_MAPPING_CHANGED)
    assert (event.target, event.actor) == ("Analysts", admin_user)
    assert event.detail == "account type: (none) -> Build; teams: +Marketing"


def test_embed_page_records_teams_and_controls(admin_client, admin_user, embed_factory):
    embed = embed_factory(slug="sales", controls=[("Region", "West", True)])
    marketing = Team.objects.create(name="Marketing")
    url = reverse("admin:embeds_embed_change", args=[embed.pk])
    data = change_form_data(admin_client.get(url))
    data["teams"] = [marketing.pk]
    data["controls-0-default_value"] = "North"

    assert admin_client.post(url, data).status_code == 302

    (teams,) = events(Kind.EMBED_TEAMS_CHANGED)
    assert (teams.embed, teams.actor, teams.detail) == (
        embed,
        admin_user,
        "teams: +Marketing -Sales",
    )
    (controls,) = events(Kind.EMBED_CONTROLS_CHANGED)
    assert controls.actor == admin_user
    assert controls.detail.startswith("Region: ")
    assert "'North'" in controls.detail and "'West'" in controls.detail


def test_credential_page_records_an_owner_change(admin_client, admin_user, credential_factory):
    credential = credential_factory(owner_email="ops@example.com", owner_is_admin=True)
    url = reverse("admin:embeds_credential_change", args=[credential.pk])
    data = change_form_data(admin_client.get(url))
    data.pop("owner_is_admin", None)  # unticked

    assert admin_client.post(url, data).status_code == 302

    (event,) = events(Kind.CREDENTIAL_OWNER_CHANGED)
    assert (event.credential, event.actor) == (credential, admin_user)
    assert event.detail == "owner is a Sigma Admin: True -> False"


def test_config_import_records_mapping_changes(alice, embed_factory, tmp_path):
    embed_factory(slug="sales", controls=[("Region", "West", True)])
    out = tmp_path / "sigma.json"
    call_command("sigma_config", "export", "--output", str(out))
    document = json.loads(out.read_text())
    (user,) = [u for u in document["users"] if u["username"] == "alice"]
    user["attributes"] = {"region": "East"}
    user["account_type"] = "Build"
    out.write_text(json.dumps(document))

    call_command("sigma_config", "import", str(out), stdout=None)

    (mapping,) = events(Kind.USER_MAPPING_CHANGED)
    assert (mapping.subject, mapping.actor, mapping.detail) == (
        alice,
        None,
        "account type: View -> Build",
    )
    (attributes,) = events(Kind.USER_ATTRIBUTES_CHANGED)
    assert attributes.detail == "region: West -> East"


def test_an_admin_change_reaches_the_next_signed_url(admin_client, alice, client, embed_factory):
    """The service invalidates the cache: no signal is needed for the admin's writes."""
    embed = embed_factory(slug="sales")
    client.force_login(alice)
    assert client.get("/embeds/sales/").status_code == 200
    assert client.get("/embeds/sales/").status_code == 200  # from the cache
    url = reverse("admin:embeds_embed_change", args=[embed.pk])
    data = change_form_data(admin_client.get(url))
    data["teams"] = [Team.objects.create(name="Marketing").pk]  # alice is not in it
    assert admin_client.post(url, data).status_code == 302

    response = client.get("/embeds/sales/")

    assert response.status_code == 403
    assert 'data-refusal="no_team"' in response.content.decode()
