"""The host site's User and Group admins, with the Sigma mapping of each.

``embeds`` offers the inlines and columns as mixins and never replaces a site's
User admin itself; this host attaches them to Django's own User and Group admins.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from embeds.admin.mappings import SigmaGroupAdminMixin, SigmaUserAdminMixin

User = get_user_model()


class UserAdmin(SigmaUserAdminMixin, DjangoUserAdmin):
    inlines = SigmaUserAdminMixin.sigma_inlines
    # Adds "Preview embeds as this user…" to the object tools.
    change_form_template = "admin/accounts/user/change_form.html"
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        *SigmaUserAdminMixin.sigma_list_display,
    )
    list_filter = (*DjangoUserAdmin.list_filter, *SigmaUserAdminMixin.sigma_list_filter)
    actions = [*SigmaUserAdminMixin.sigma_actions]


class GroupAdmin(SigmaGroupAdminMixin, DjangoGroupAdmin):
    inlines = SigmaGroupAdminMixin.sigma_inlines
    list_display = ("name", *SigmaGroupAdminMixin.sigma_list_display)


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
