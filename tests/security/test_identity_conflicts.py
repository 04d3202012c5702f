"""N6: the identity is checked when signing, not only when a mapping is saved.

The attack: a user who gets access through a group (no own mapping) has their
``User.email`` edited to another mapped person's email, in another case; the
mapping forms never see it, and every signing path signed them as that person.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from embeds.exceptions import IdentityConflict
from embeds.models import AccessRecord, AccountType, GroupMapping, SigmaProfile
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db

CODE = IdentityConflict.code


@pytest.fixture
def mallory(team_factory):
    """Access through the group "Analysts" only: no own mapping."""
    group = Group.objects.create(name="Analysts")
    mapping = GroupMapping.objects.create(
        group=group, account_type=AccountType.objects.get_or_create(name="View")[0]
    )
    mapping.teams.set([team_factory("Sales")])
    user = get_user_model().objects.create_user("mallory", "mallory@example.com", "demo")
    user.groups.add(group)
    return user


def take_email(user, email: str) -> None:
    user.email = email
    user.save()


def test_page_refuses_a_group_user_whose_email_became_another_users(
    client, alice, mallory, embed_factory, caplog
):
    embed_factory(slug="sales")
    take_email(mallory, "ALICE@Example.com")
    client.force_login(mallory)
    caplog.set_level(logging.INFO)

    response = client.get("/embeds/sales/")

    html = response.content.decode()
    assert response.status_code == 403
    assert IdentityConflict.message in html and IdentityConflict.fixer in html
    assert ":jwt=" not in html
    record = AccessRecord.objects.get()
    assert (record.rule, record.user) == (CODE, mallory)
    assert (
        "Sigma identity conflict: User 'mallory' has the Sigma email of active user(s) 'alice'."
        in caplog.text
    )
    assert CANARY_SECRET not in caplog.text and "eyJ" not in caplog.text


def test_a_cached_identity_is_refused_once_another_user_takes_its_email(
    client, alice, mallory, embed_factory
):
    embed_factory(slug="sales")
    client.force_login(alice)
    assert client.get("/embeds/sales/").status_code == 200  # alice's snapshot is cached

    take_email(mallory, "alice@EXAMPLE.com")

    assert client.get("/embeds/sales/").status_code == 403
    assert AccessRecord.objects.filter(rule=CODE, user=alice).count() == 1


def test_refresh_tag_preview_and_command_refuse_the_conflict(
    client, admin_client, alice, mallory, embed_factory, run, settings
):
    embed = embed_factory(slug="sales")
    take_email(mallory, "Alice@example.com")
    client.force_login(mallory)

    refresh = client.post(
        reverse("embeds:refresh", kwargs={"slug": "sales"}), "{}", content_type="application/json"
    )
    preview = admin_client.post(
        reverse("admin:embeds_embed_preview"), {"user": mallory.pk, "embed": embed.pk}
    )
    command = run("sigma_embed_url", "--user", "mallory", "--embed", "sales")
    settings.ROOT_URLCONF = "tests.embeds.tag_urls"
    tag = client.get("/dashboard/", {"slug": "sales"}).content.decode()

    assert (refresh.status_code, refresh.json()["error"]["code"]) == (403, CODE)
    assert preview.context["result"]["refusal"].code == CODE
    assert command.returncode != 0 and ":jwt=" not in command.everything
    assert f'data-refusal="{CODE}"' in tag and ":jwt=" not in tag
    assert set(AccessRecord.objects.values_list("rule", flat=True)) == {CODE}
    assert sorted(AccessRecord.objects.values_list("source", flat=True)) == [
        "command",
        "preview",
        "refresh",
        "tag",
    ]


def test_a_group_user_with_the_credential_owners_email_is_refused(client, mallory, embed_factory):
    embed = embed_factory(slug="sales")
    take_email(mallory, embed.credential.owner_email.upper())
    client.force_login(mallory)

    response = client.get("/embeds/sales/")

    assert response.status_code == 403
    assert AccessRecord.objects.get().rule == CODE


def test_a_user_declared_as_the_owner_in_their_own_mapping_is_signed(
    client, user_factory, embed_factory
):
    embed = embed_factory(slug="sales")
    owner = user_factory("owner", email=embed.credential.owner_email, teams=["Sales"])
    SigmaProfile.objects.filter(user=owner).update(internal=SigmaProfile.Internal.INTERNAL)
    client.force_login(owner)

    assert client.get("/embeds/sales/").status_code == 200


def test_deactivating_the_other_user_lifts_the_conflict(client, alice, mallory, embed_factory):
    embed_factory(slug="sales")
    take_email(mallory, "alice@example.com")
    client.force_login(alice)
    assert client.get("/embeds/sales/").status_code == 403

    mallory.is_active = False
    mallory.save()

    assert client.get("/embeds/sales/").status_code == 200


def test_sigma_check_names_a_user_with_the_owners_email(run, mallory, embed_factory):
    embed = embed_factory(slug="sales")
    take_email(mallory, embed.credential.owner_email)

    result = run("sigma_check")

    assert result.returncode == 1
    assert "embeds.E031" in result.everything
    assert (
        f"User mallory has the Sigma email of the owner of credential {embed.credential.name}"
        in result.everything
    )
