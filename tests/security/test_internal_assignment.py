"""NEW-4: who may make someone an internal Sigma member, and with whose email.

The attack: a staff user allowed to edit users (``auth.change_user`` and the mapping
permissions that come with a user's page) gave a second account an own mapping
marked internal with the email of the credential owner or of any other Sigma
member; signing in as that account, the embed page signed a JWT for that member as
an internal user: a real Sigma session as them, Admin rights included. The same
followed from an internal group, from changing ``User.email`` of an internal user,
from ``sigma_config import``, and from ticking ``is_superuser`` (stock UserAdmin).
Each door is replayed here as the least-privileged staff user (or the command).
"""

from __future__ import annotations

import importlib
import json

import jwt
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from embeds import services
from embeds.admin.mappings import MSG_INTERNAL_READ_ONLY
from embeds.models import GroupMapping, SecurityEvent, SigmaProfile
from embeds.services.mappings import MSG_INTERNAL_PERMISSION
from tests.conftest import CANARY_SECRET
from tests.embeds.admin.conftest import change_form_data

pytestmark = pytest.mark.django_db

OWNER = "owner@example.com"  # credential_factory's owner: a Sigma Admin member
MEMBER = "cfo@example.com"  # another Sigma member, not a host user
PROFILE = "sigma_profile-0-"
INTERNAL = SigmaProfile.Internal.INTERNAL
# What editing a user's page takes, without the new permission.
USER_EDITOR = (
    "auth.view_user",
    "auth.change_user",
    "embeds.view_sigmaprofile",
    "embeds.add_sigmaprofile",
    "embeds.change_sigmaprofile",
    "embeds.view_sigmaprofileattribute",
    "embeds.add_sigmaprofileattribute",
    "embeds.change_sigmaprofileattribute",
    "embeds.delete_sigmaprofileattribute",
)
GROUP_EDITOR = (
    "auth.view_group",
    "auth.change_group",
    "embeds.view_groupmapping",
    "embeds.add_groupmapping",
    "embeds.change_groupmapping",
)
ASSIGN = "embeds.assign_internal_identity"


def user_change(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def group_change(group) -> str:
    return reverse("admin:auth_group_change", args=[group.pk])


def sigma_session(user) -> tuple[str, bool] | None:
    """Whom the embed page signs ``user`` in as (email, internal), or None if refused."""
    client = Client()
    client.force_login(user)
    response = client.get("/embeds/sales/")
    if response.status_code != 200:
        return None
    token = response.context["signed_url"].split(":jwt=")[1].split("&")[0]
    claims = jwt.decode(token, CANARY_SECRET, algorithms=["HS256"], audience="sigmacomputing")
    return claims["sub"], "account_type" not in claims


def saved(response) -> None:
    assert response.status_code == 302, [
        (f.prefix, f.errors)
        for i in response.context["inline_admin_formsets"]
        for f in i.formset.forms
    ] + [response.context["adminform"].form.errors]


@pytest.fixture
def sales(embed_factory):
    return embed_factory(slug="sales")


@pytest.fixture
def mallory(user_factory):
    """The second account: an embed user in team Sales."""
    return user_factory("mallory", teams=["Sales"])


@pytest.fixture
def editor(client, staff_factory):
    """Staff allowed to edit users and groups, without ``assign_internal_identity``."""
    user = staff_factory("editor", *USER_EDITOR, *GROUP_EDITOR)
    client.force_login(user)
    return user


@pytest.fixture
def assigner(staff_factory):
    return staff_factory("assigner", *USER_EDITOR, *GROUP_EDITOR, ASSIGN)


@pytest.fixture
def olivia(user_factory):
    """The credential owner, signed in as that internal member (email pinned)."""
    user = user_factory("olivia", email=OWNER, teams=["Sales"], account_type=None)
    profile = SigmaProfile.objects.get(user=user)
    profile.internal = INTERNAL
    services.save_sigma_profile(profile=profile, operator=True)
    return user


def post_user(client, user, **changes):
    data = change_form_data(client.get(user_change(user)))
    data.update(changes)
    return client.post(user_change(user), data)


# The user's own mapping --------------------------------------------------------------


@pytest.mark.parametrize("email", [OWNER, MEMBER])
def test_editor_cannot_map_another_account_to_a_member_as_internal(
    client, editor, mallory, sales, email
):
    page = client.get(user_change(mallory)).content.decode()
    response = post_user(
        client, mallory, **{f"{PROFILE}internal": "internal", f"{PROFILE}sigma_email": email}
    )

    saved(response)  # the email is theirs to edit; the user type is not
    assert sigma_session(mallory) in (None, (email, False))
    assert SigmaProfile.objects.get(user=mallory).internal == SigmaProfile.Internal.INHERIT
    assert MSG_INTERNAL_READ_ONLY in page


def test_the_service_refuses_without_the_permission_whatever_the_form(editor, mallory):
    profile = SigmaProfile.objects.get(user=mallory)
    profile.internal = INTERNAL
    profile.sigma_email = MEMBER

    with pytest.raises(PermissionDenied) as refused:
        services.save_sigma_profile(profile=profile, actor=editor)
    with pytest.raises(PermissionDenied):
        services.save_sigma_profile(profile=profile)  # no actor is no permission

    assert str(refused.value) == MSG_INTERNAL_PERMISSION

    assert SigmaProfile.objects.get(user=mallory).internal == SigmaProfile.Internal.INHERIT


def test_editor_cannot_change_the_email_of_an_internal_member(client, editor, olivia, sales):
    assert sigma_session(olivia) == (OWNER, True)

    saved(post_user(client, olivia, **{f"{PROFILE}sigma_email": MEMBER}))
    profile = SigmaProfile.objects.get(user=olivia)
    profile.sigma_email = MEMBER
    with pytest.raises(PermissionDenied):
        services.save_sigma_profile(profile=profile, actor=editor)

    assert sigma_session(olivia) == (OWNER, True)


def test_editor_cannot_take_over_an_internal_member_by_password(client, editor, olivia):
    url = reverse("admin:auth_user_password_change", args=[olivia.pk])

    response = client.post(url, {"password1": "Taken-over-42", "password2": "Taken-over-42"})

    assert response.status_code == 403
    olivia.refresh_from_db()
    assert olivia.check_password("demo")


def test_editor_cannot_delete_an_internal_members_own_mapping(editor, olivia):
    with pytest.raises(PermissionDenied):
        services.delete_sigma_profile(user=olivia, actor=editor)

    assert SigmaProfile.objects.filter(user=olivia, internal=INTERNAL).exists()


# User.email ---------------------------------------------------------------------------


def test_an_internal_members_email_is_pinned_against_user_email_edits(olivia, sales):
    assert SigmaProfile.objects.get(user=olivia).sigma_email == OWNER

    olivia.email = MEMBER  # any door that edits users: a form, a shell, an import
    olivia.save()

    assert sigma_session(olivia) == (OWNER, True)


def test_editor_cannot_edit_user_email_of_an_internal_member(client, editor, mallory, sales):
    group = Group.objects.create(name="Sigma staff")
    GroupMapping.objects.create(group=group, internal=True)
    mallory.groups.add(group)  # internal through the group: email from User.email
    assert sigma_session(mallory) == ("mallory@example.com", True)

    saved(post_user(client, mallory, email=MEMBER, **{f"{PROFILE}sigma_email": MEMBER}))

    mallory.refresh_from_db()
    assert (mallory.email, mallory.sigma_profile.sigma_email) == ("mallory@example.com", "")
    assert sigma_session(mallory) == ("mallory@example.com", True)


def test_the_upgrade_pins_existing_internal_members_emails(user_factory):
    user = user_factory("owen", email=OWNER, account_type=None)
    SigmaProfile.objects.filter(user=user).update(internal=INTERNAL)  # as before 0018
    migration = importlib.import_module("embeds.migrations.0018_assign_internal_identity")

    migration.pin_internal_emails(apps, None)

    assert SigmaProfile.objects.get(user=user).sigma_email == OWNER


# Groups -------------------------------------------------------------------------------


def test_editor_cannot_make_a_group_internal(client, editor, mallory, sales):
    SigmaProfile.objects.filter(user=mallory).update(sigma_email=MEMBER)
    group = Group.objects.create(name="Analysts")
    mallory.groups.add(group)
    data = change_form_data(client.get(group_change(group)))
    data["sigma_mapping-0-internal"] = "on"

    response = client.post(group_change(group), data)

    saved(response)
    assert not GroupMapping.objects.filter(internal=True).exists()
    assert sigma_session(mallory) == (MEMBER, False)
    with pytest.raises(PermissionDenied):
        services.save_group_mapping(
            group=group, account_type=None, teams=[], internal=True, actor=editor
        )


def test_editor_cannot_put_an_account_into_an_internal_group(client, editor, mallory, sales):
    group = Group.objects.create(name="Sigma staff")
    GroupMapping.objects.create(group=group, internal=True)

    saved(post_user(client, mallory, groups=[group.pk]))

    assert not mallory.groups.exists()
    assert sigma_session(mallory) == ("mallory@example.com", False)


# Privileges on the user and group pages -----------------------------------------------


def test_editor_cannot_grant_privileges_on_a_users_page(client, editor, mallory):
    delete_users = Permission.objects.get(codename="delete_user")
    group = Group.objects.create(name="Admins")

    response = post_user(
        client,
        editor,
        is_superuser="on",
        user_permissions=[*editor.user_permissions.values_list("pk", flat=True), delete_users.pk],
        groups=[group.pk],
    )
    saved(response)
    saved(post_user(client, mallory, is_staff="on", is_superuser="on"))

    editor = get_user_model().objects.get(pk=editor.pk)
    mallory.refresh_from_db()
    assert not editor.is_superuser and not editor.has_perm("auth.delete_user")
    assert not editor.groups.exists()
    assert not mallory.is_staff and not mallory.is_superuser


def test_editor_cannot_change_a_superuser_or_another_staff_user(
    client, editor, admin_user, staff_factory
):
    for other in (admin_user, staff_factory("other-staff", "auth.delete_user")):
        password = reverse("admin:auth_user_password_change", args=[other.pk])
        assert client.post(user_change(other), {"username": "taken"}).status_code == 403
        assert client.get(password).status_code == 403


def test_editor_cannot_give_a_group_permissions(client, editor):
    group = Group.objects.create(name="Editors")
    editor.groups.add(group)
    delete_users = Permission.objects.get(codename="delete_user")
    data = change_form_data(client.get(group_change(group)))
    data["permissions"] = [delete_users.pk]

    saved(client.post(group_change(group), data))

    assert not group.permissions.exists()
    assert not get_user_model().objects.get(pk=editor.pk).has_perm("auth.delete_user")


# The allowed paths --------------------------------------------------------------------


def test_a_holder_of_the_permission_maps_the_owner_as_internal_and_pins_the_email(
    client, assigner, user_factory, sales
):
    owner = user_factory("owner", email=OWNER, teams=["Sales"], account_type=None)
    client.force_login(assigner)

    saved(post_user(client, owner, **{f"{PROFILE}internal": "internal"}))

    assert SigmaProfile.objects.get(user=owner).sigma_email == OWNER
    assert sigma_session(owner) == (OWNER, True)


def test_a_superuser_makes_a_group_internal(admin_client, mallory, sales):
    group = Group.objects.create(name="Sigma staff")
    mallory.groups.add(group)
    data = change_form_data(admin_client.get(group_change(group)))
    data["sigma_mapping-0-internal"] = "on"

    saved(admin_client.post(group_change(group), data))

    assert GroupMapping.objects.get(group=group).internal
    assert sigma_session(mallory) == ("mallory@example.com", True)


# sigma_config import ------------------------------------------------------------------


def import_file(tmp_path, document: dict) -> str:
    path = tmp_path / "sigma.json"
    path.write_text(json.dumps({"version": 1, **document}))
    return str(path)


def test_import_needs_allow_internal_to_make_a_member_internal(run, mallory, sales, tmp_path):
    file = import_file(
        tmp_path,
        {
            "users": [
                {
                    "username": "mallory",
                    "sigma_email": OWNER,
                    "internal": "internal",
                    "teams": ["Sales"],
                },
            ],
            "groups": [{"name": "Analysts", "internal": True}],
        },
    )
    Group.objects.create(name="Analysts")

    refused = run("sigma_config", "import", file)

    assert refused.returncode != 0
    assert "users[0].internal: changes who is signed in as an internal Sigma member" in (
        refused.everything
    )
    assert "groups[0].internal:" in refused.everything and "--allow-internal" in refused.everything
    assert SigmaProfile.objects.get(user=mallory).internal == SigmaProfile.Internal.INHERIT
    assert not GroupMapping.objects.exists()
    assert sigma_session(mallory) == ("mallory@example.com", False)

    # The operator, having read it, asks for it by name.
    assert run("sigma_config", "import", file, "--allow-internal").returncode == 0
    assert sigma_session(mallory) == (OWNER, True)


# H5: an email chosen while the group is an embed group becomes internal later --------


@pytest.fixture
def finance(mallory):
    """An embed group with a Sigma mapping, mallory a member."""
    group = Group.objects.create(name="Finance")
    GroupMapping.objects.create(group=group, internal=False)
    mallory.groups.add(group)
    return group


def test_editor_cannot_choose_the_email_of_a_mapped_groups_member(
    client, editor, mallory, finance, sales
):
    saved(post_user(client, mallory, email=MEMBER))

    mallory.refresh_from_db()
    assert mallory.email == "mallory@example.com"


def test_editor_still_edits_the_email_of_an_ungrouped_embed_user(client, editor, mallory, sales):
    saved(post_user(client, mallory, email="mallory.new@example.com"))

    mallory.refresh_from_db()
    assert mallory.email == "mallory.new@example.com"


def test_making_a_group_internal_records_whom_its_members_are_signed_in_as(
    admin_client, mallory, finance, sales
):
    data = change_form_data(admin_client.get(group_change(finance)))
    data["sigma_mapping-0-internal"] = "on"

    saved(admin_client.post(group_change(finance), data))

    assert sigma_session(mallory) == ("mallory@example.com", True)
    event = SecurityEvent.objects.get(subject=mallory)
    assert "Finance" in event.detail
    assert "mallory@example.com" in event.detail


# H7: sigma_config matches users by username ------------------------------------------


def test_editor_cannot_rename_an_internal_member(client, editor, olivia):
    saved(post_user(client, olivia, username="olivia.old"))

    olivia.refresh_from_db()
    assert olivia.username == "olivia"


def test_the_import_refusal_names_the_account_and_the_sigma_email(run, user_factory, tmp_path):
    """The file's internal entry is matched by username: whatever account now bears
    the name (here a renamed "mule") is what the operator must see before allowing it."""
    mule = user_factory("ivan", email="mule@example.com", teams=["Sales"])
    file = import_file(
        tmp_path,
        {
            "users": [
                {
                    "username": "ivan",
                    "sigma_email": "ivan@corp.example",
                    "internal": "internal",
                    "teams": ["Sales"],
                },
            ],
        },
    )

    refused = run("sigma_config", "import", file)

    assert refused.returncode != 0
    assert f"user 'ivan' (id {mule.pk}, now mule@example.com)" in refused.everything
    assert "Sigma email ivan@corp.example" in refused.everything
    assert SigmaProfile.objects.get(user=mule).internal == SigmaProfile.Internal.INHERIT
