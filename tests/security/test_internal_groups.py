"""H6: deleting an internal group's mapping (the group page's inline, deleting the
group itself, the list's bulk delete) turns its members into embed users and frees
their ``User.email`` for ``auth.change_user`` holders: it needs the permission, like
deleting an internal member's own mapping. Replayed as the least-privileged staff user.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from embeds import services
from embeds.models import GroupMapping
from tests.embeds.admin.conftest import change_form_data
from tests.security.test_internal_assignment import ASSIGN, GROUP_EDITOR, group_change

pytestmark = pytest.mark.django_db

GROUP_DELETER = (*GROUP_EDITOR, "auth.delete_group", "embeds.delete_groupmapping")


@pytest.fixture
def internal_group(team_factory):
    group = Group.objects.create(name="Sigma staff")
    GroupMapping.objects.create(group=group, internal=True).teams.set([team_factory("Sales")])
    return group


@pytest.fixture
def deleter(client, staff_factory):
    user = staff_factory("gina", *GROUP_DELETER)
    client.force_login(user)
    return user


def _delete_inline(client, group):
    url = group_change(group)
    data = change_form_data(client.get(url))
    ids = [key for key in data if key.startswith("sigma_mapping") and key.endswith("-id")]
    assert ids, "the group page shows no mapping inline"
    for key in ids:
        data[key.replace("-id", "-DELETE")] = "on"
    return client.post(url, data)


def test_deleting_an_internal_groups_mapping_on_its_page_needs_the_permission(
    client, deleter, internal_group
):
    _delete_inline(client, internal_group)

    assert GroupMapping.objects.filter(group=internal_group, internal=True).exists()


def test_deleting_an_internal_group_needs_the_permission(client, deleter, internal_group):
    url = reverse("admin:auth_group_delete", args=[internal_group.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 403
    assert GroupMapping.objects.filter(group=internal_group, internal=True).exists()


def test_bulk_deleting_an_internal_group_needs_the_permission(client, deleter, internal_group):
    plain = Group.objects.create(name="Plain")
    url = reverse("admin:auth_group_changelist")

    response = client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [internal_group.pk, plain.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 403
    assert Group.objects.filter(pk__in=[internal_group.pk, plain.pk]).count() == 2


def test_the_service_refuses_without_the_permission(deleter, internal_group):
    with pytest.raises(PermissionDenied):
        services.delete_group_mapping(group=internal_group, actor=deleter)

    assert GroupMapping.objects.filter(group=internal_group).exists()


def test_a_holder_of_the_permission_deletes_an_internal_groups_mapping(
    client, staff_factory, internal_group
):
    client.force_login(staff_factory("hank", *GROUP_DELETER, ASSIGN))

    _delete_inline(client, internal_group)

    assert not GroupMapping.objects.filter(group=internal_group).exists()


def test_an_embed_groups_mapping_needs_no_such_permission(client, deleter, internal_group):
    GroupMapping.objects.filter(group=internal_group).update(internal=False)

    _delete_inline(client, internal_group)

    assert not GroupMapping.objects.filter(group=internal_group).exists()
