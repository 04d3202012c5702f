"""The admin package registers only this app's models; the site owns its User admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.admin import GroupAdmin, UserAdmin
from embeds.admin.mappings import (
    GroupMappingInline,
    SigmaAttributeInline,
    SigmaGroupAdminMixin,
    SigmaProfileInline,
    SigmaUserAdminMixin,
)


def test_embeds_admin_registers_only_embeds_models():
    for model, model_admin in admin.site._registry.items():
        if type(model_admin).__module__.startswith("embeds.admin"):
            assert model._meta.app_label == "embeds", model
    # The mapping inlines are attached by the host, not registered on their own.
    registered = {m._meta.model_name for m in admin.site._registry if m._meta.app_label == "embeds"}
    assert {"sigmaprofile", "sigmaprofileattribute", "groupmapping"}.isdisjoint(registered)
    assert {"credential", "embed", "team", "accounttype", "userattribute"} <= registered
    assert {"accessrecord", "embederrorreport"} <= registered


def test_host_attaches_the_sigma_mixins_to_its_user_and_group_admins():
    user_admin = admin.site._registry[get_user_model()]
    group_admin = admin.site._registry[Group]
    assert isinstance(user_admin, UserAdmin) and isinstance(user_admin, SigmaUserAdminMixin)
    assert isinstance(group_admin, GroupAdmin) and isinstance(group_admin, SigmaGroupAdminMixin)
    assert list(user_admin.inlines) == [SigmaProfileInline, SigmaAttributeInline]
    assert list(group_admin.inlines) == [GroupMappingInline]
    assert {"sigma_teams", "sigma_account_type", "sigma_status"} <= set(user_admin.list_display)


@pytest.mark.django_db
def test_user_and_group_mapping_permissions_have_distinct_names():
    from django.contrib.auth.models import Permission

    names = list(
        Permission.objects.filter(content_type__app_label="embeds").values_list("name", flat=True)
    )
    assert len(names) == len(set(names))
    assert "Can change Sigma mapping of a user" in names
    assert "Can change Sigma mapping of a group" in names


@pytest.mark.django_db
def test_admin_pages_name_an_icon_so_the_browser_asks_for_no_favicon(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert '<link rel="icon" href="data:,">' in html
