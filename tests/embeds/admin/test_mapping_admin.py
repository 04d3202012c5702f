"""Sigma mappings on the User and Group admin pages."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from embeds.admin.mappings import MSG_BLOCKED_REASON
from embeds.models import AccountType, GroupMapping, SigmaProfile, Team, UserAttribute
from embeds.models.mappings import MSG_EMAIL_TAKEN
from embeds.protocol.validators import MSG_ATTRIBUTE_VALUE, MSG_EMAIL_INVALID
from tests.conftest import CANARY_SECRET
from tests.embeds.admin.conftest import change_form_data

PROFILE = "sigma_profile-0-"
ATTRS = "attributes-"


def user_change(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def test_user_list_shows_effective_teams_and_account_type(admin_client, alice, user_factory):
    group = Group.objects.create(name="Marketers")
    mapping = GroupMapping.objects.create(group=group)
    mapping.teams.set([Team.objects.get_or_create(name="Marketing")[0]])
    alice.groups.add(group)
    carol = user_factory("carol", account_type=None)
    user_factory("dave", teams=())  # mapped, but in no team: refused on every embed
    user_factory("erin", is_active=False)
    for name in ("Build", "View"):
        g = Group.objects.create(name=f"{name} group")
        account_type = AccountType.objects.get_or_create(name=name)[0]
        GroupMapping.objects.create(group=g, account_type=account_type)
        carol.groups.add(g)

    response = admin_client.get(reverse("admin:auth_user_changelist"))

    rows = {
        row[0]: row
        for row in (
            (u.username, admin_client_display(response, u))
            for u in response.context["cl"].result_list
        )
    }
    assert rows["alice"][1] == ("Marketing, Sales", "View", "ok")
    assert rows["carol"][1] == ("—", "ambiguous: Build, View", "refused: ambiguous_account_type")
    assert rows["dave"][1][2] == "no team"
    assert rows["erin"][1][2] == "refused: user_inactive"


def admin_client_display(response, user):
    model_admin = response.context["cl"].model_admin
    return (
        model_admin.sigma_teams(user),
        model_admin.sigma_account_type(user),
        model_admin.sigma_status(user),
    )


def test_user_page_maps_alice_to_a_team_with_attributes(admin_client, user_factory):
    user = user_factory("erin", teams=(), attributes={})
    sales = Team.objects.get_or_create(name="Sales")[0]
    region = UserAttribute.objects.get_or_create(name="region")[0]
    data = change_form_data(admin_client.get(user_change(user)))
    data[f"{PROFILE}teams"] = [sales.pk]
    data[f"{ATTRS}0-attribute"] = region.pk
    data[f"{ATTRS}0-value"] = "West"

    response = admin_client.post(user_change(user), data)

    assert response.status_code == 302, [
        (f.prefix, f.errors)
        for i in response.context["inline_admin_formsets"]
        for f in i.formset.forms
    ] + [response.context["adminform"].form.errors]
    profile = SigmaProfile.objects.get(user=user)
    assert list(profile.teams.values_list("name", flat=True)) == ["Sales"]
    assert list(profile.attributes.values_list("attribute__name", "value")) == [("region", "West")]
    message = LogEntry.objects.get(object_id=str(user.pk)).get_change_message()
    assert "Changed Teams for Sigma mapping of a user “Sigma mapping of erin”." in message
    assert "Added user attribute value of a user “region”." in message
    assert "West" not in message


def test_user_page_creates_a_profile_for_attribute_rows_alone(admin_client, django_user_model):
    user = django_user_model.objects.create_user("frank", "frank@example.com", "demo")
    region = UserAttribute.objects.get_or_create(name="region")[0]
    data = change_form_data(admin_client.get(user_change(user)))
    data[f"{ATTRS}0-attribute"] = region.pk
    data[f"{ATTRS}0-value"] = "East"

    response = admin_client.post(user_change(user), data)

    assert response.status_code == 302, [
        (f.prefix, f.errors)
        for i in response.context["inline_admin_formsets"]
        for f in i.formset.forms
    ] + [response.context["adminform"].form.errors]
    profile = SigmaProfile.objects.get(user=user)
    assert list(profile.attributes.values_list("value", flat=True)) == ["East"]


def test_user_attribute_value_refused_with_control_characters(admin_client, alice):
    data = change_form_data(admin_client.get(user_change(alice)))
    data[f"{ATTRS}0-value"] = "West\x07"

    response = admin_client.post(user_change(alice), data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][1].formset
    assert formset.forms[0].errors["value"] == [MSG_ATTRIBUTE_VALUE]
    assert list(alice.sigma_profile.attributes.values_list("value", flat=True)) == ["West"]


def test_user_attribute_refused_twice_for_one_user(admin_client, alice):
    region = UserAttribute.objects.get(name="region")
    data = change_form_data(admin_client.get(user_change(alice)))
    data[f"{ATTRS}1-attribute"] = region.pk
    data[f"{ATTRS}1-value"] = "East"

    response = admin_client.post(user_change(alice), data)

    formset = response.context["inline_admin_formsets"][1].formset
    assert formset.non_form_errors() == ["Please correct the duplicate data for attribute."]
    assert list(alice.sigma_profile.attributes.values_list("value", flat=True)) == ["West"]


def test_user_page_refuses_an_email_sigma_rejects(admin_client, alice):
    data = change_form_data(admin_client.get(user_change(alice)))
    data[f"{PROFILE}sigma_email"] = "alice_smith@example.com"

    response = admin_client.post(user_change(alice), data)

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["sigma_email"] == [MSG_EMAIL_INVALID]


def test_user_kill_switch_needs_a_reason_and_blocks_next_request(
    admin_client, client, alice, embed_factory
):
    embed = embed_factory()
    data = change_form_data(admin_client.get(user_change(alice)))
    data[f"{PROFILE}is_blocked"] = "on"

    refused = admin_client.post(user_change(alice), data)
    assert refused.context["inline_admin_formsets"][0].formset.forms[0].errors[
        "blocked_reason"
    ] == [MSG_BLOCKED_REASON]

    data[f"{PROFILE}blocked_reason"] = "Left the company"
    assert admin_client.post(user_change(alice), data).status_code == 302
    client.force_login(alice)
    assert client.get(embed.get_absolute_url()).status_code == 403


def test_user_change_page_links_to_preview_and_leaks_no_secret(admin_client, alice, embed_factory):
    embed_factory()

    html = admin_client.get(user_change(alice)).content.decode()

    assert f"/admin/embeds/embed/preview/?user={alice.pk}" in html
    assert CANARY_SECRET not in html


def test_group_page_maps_teams_and_account_type(admin_client, team_factory):
    group = Group.objects.create(name="Analysts")
    marketing = team_factory("Marketing")
    build = AccountType.objects.get_or_create(name="Build")[0]
    url = reverse("admin:auth_group_change", args=[group.pk])
    data = change_form_data(admin_client.get(url))
    data["sigma_mapping-0-teams"] = [marketing.pk]
    data["sigma_mapping-0-account_type"] = build.pk

    response = admin_client.post(url, data)

    assert response.status_code == 302, [
        (f.prefix, f.errors)
        for i in response.context["inline_admin_formsets"]
        for f in i.formset.forms
    ] + [response.context["adminform"].form.errors]
    mapping = GroupMapping.objects.get(group=group)
    assert mapping.account_type == build
    assert list(mapping.teams.values_list("name", flat=True)) == ["Marketing"]
    listing = admin_client.get(reverse("admin:auth_group_changelist")).content.decode()
    assert "Marketing" in listing and "Build" in listing


def test_user_page_refuses_a_sigma_email_another_active_user_has(admin_client, alice, user_factory):
    user_factory("bob", sigma_email="shared@example.com")
    data = change_form_data(admin_client.get(user_change(alice)))
    data[f"{PROFILE}sigma_email"] = "SHARED@example.com"

    response = admin_client.post(user_change(alice), data)

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["sigma_email"] == [
        MSG_EMAIL_TAKEN % {"email": "SHARED@example.com", "users": "bob"}
    ]
    assert SigmaProfile.objects.get(user=alice).sigma_email == ""
