"""The host site's User and Group admins, with the Sigma mapping of each.

``embeds`` offers the inlines and columns as mixins and never replaces a site's
User admin itself; this host attaches them to Django's own User and Group admins.

Security: in stock Django, ``auth.change_user`` lets a staff user tick
``is_superuser`` or grant any permission, and ``auth.change_group`` gives a group
any permission. Here only superusers change privileges (superuser and staff status,
permissions, groups) and superuser or other staff accounts. The mixin keeps the
email and password of a user signed in as an internal Sigma member (a real Sigma
session as them) with holders of ``embeds.assign_internal_identity``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from embeds.admin.mappings import SigmaGroupAdminMixin, SigmaUserAdminMixin

User = get_user_model()

#: What only a superuser may change on a user's page: each one grants privileges.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


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

    def has_change_permission(self, request, obj=None):
        # Superuser and other staff accounts carry privileges: whoever could set
        # their password could act with them.
        if (
            obj is not None
            and not request.user.is_superuser
            and (obj.is_superuser or (obj.is_staff and obj.pk != request.user.pk))
        ):
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # The mixin's: an internal member's email (and password) need the permission.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields


class GroupAdmin(SigmaGroupAdminMixin, DjangoGroupAdmin):
    inlines = SigmaGroupAdminMixin.sigma_inlines
    list_display = ("name", *SigmaGroupAdminMixin.sigma_list_display)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("permissions")  # a group's permissions are its members'
        return fields


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
