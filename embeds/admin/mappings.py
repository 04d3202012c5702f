"""Sigma mappings of host users and groups, as inlines and mixins for the site's own admins.

A user's page carries their Sigma mapping (email override, account type, teams, the
per-user kill switch) and their user attributes as key/value rows; a group's page
carries the group's teams and account type. Names are picked from the registries
(``Team``, ``AccountType``, ``UserAttribute``), never typed, so a typo cannot reach
Sigma.

This app never replaces a site's User or Group admin: the site adds
:class:`SigmaUserAdminMixin` / :class:`SigmaGroupAdminMixin` to its own (see the
host's ``accounts/admin.py`` and the README, "Admin for your users").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from embeds import services
from embeds.admin.common import (
    AdminMixin,
    BaseInlineFormSet,
    ChangeContextMixin,
    CheckTargets,
    InlineMixin,
    ModelForm,
    SigmaCheckOnSaveMixin,
    StackedInline,
    TabularInline,
    kept_rows,
    require_reason,
)
from embeds.admin.preview import PREVIEW_PERMISSION
from embeds.admin.remote import check_users_against_sigma_action
from embeds.exceptions import Refusal
from embeds.issuing.identity import effective_team_ids, identity_for
from embeds.models import GroupMapping, SigmaProfile, SigmaProfileAttribute, Team
from embeds.models.mappings import has_internal_identity, may_assign_internal_identity

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec
    from django.contrib.auth.admin import UserAdmin as SiteUserAdmin

    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile
    from django.utils.datastructures import MultiValueDict
else:
    # What SigmaUserAdminMixin uses of the site's UserAdmin (Django's or a subclass),
    # which comes after it: a plain mixin at run time.
    SiteUserAdmin = AdminMixin

_ChildT = TypeVar("_ChildT", bound=Model)
_ParentT = TypeVar("_ParentT", bound=Model)

MSG_BLOCKED_REASON = "Say why this user's embeds are blocked: admins see the reason."
MSG_INTERNAL_READ_ONLY = (
    "Read-only for you: choosing who is signed in as an internal Sigma member (a real "
    "Sigma session as them) needs the permission “Can map users to internal Sigma "
    "members (real Sigma sessions)”."
)


class InternalIdentityFieldsMixin(InlineMixin[_ChildT, _ParentT]):
    """An inline whose fields choose who is signed in as an internal Sigma member.

    Security: without ``embeds.assign_internal_identity`` they are read-only, and
    the fieldset that holds them says why (the services refuse them too).

    Django hands an inline's ``get_readonly_fields`` and ``get_fieldsets`` the page's
    object (the user or group); django-stubs types it as the inline's own model, hence
    the type ignores below.
    """

    def internal_identity_fields(self, obj: _ParentT | None) -> tuple[str, ...]:
        return ("internal",)

    def get_readonly_fields(  # type: ignore[override]
        self, request: HttpRequest, obj: _ParentT | None = None
    ) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[arg-type]
        if not may_assign_internal_identity(request.user):
            fields += self.internal_identity_fields(obj)
        return fields

    def get_fieldsets(  # type: ignore[override]
        self, request: HttpRequest, obj: _ParentT | None = None
    ) -> _FieldsetSpec:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[arg-type]
        if may_assign_internal_identity(request.user):
            return fieldsets
        return [
            (name, {**options, "description": MSG_INTERNAL_READ_ONLY})
            if "internal" in options["fields"]
            else (name, options)
            for name, options in fieldsets
        ]


class SigmaProfileForm(ModelForm[SigmaProfile]):
    class Meta:
        model = SigmaProfile
        fields = [
            "sigma_email",
            "account_type",
            "teams",
            "internal",
            "eval_connection_id",
            "is_blocked",
            "blocked_reason",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        require_reason(
            self,
            switched_off=bool(self.cleaned_data.get("is_blocked")),
            field="blocked_reason",
            message=MSG_BLOCKED_REASON,
        )
        return self.cleaned_data


class SigmaProfileInline(
    InternalIdentityFieldsMixin[SigmaProfile, "User"], StackedInline[SigmaProfile, "User"]
):
    model = SigmaProfile
    form = SigmaProfileForm
    can_delete = False
    max_num = 1
    verbose_name_plural = "Sigma mapping"
    filter_horizontal = ("teams",)
    fieldsets = (
        (None, {"fields": ("sigma_email", "account_type", "teams", "internal")}),
        ("Connection switching", {"fields": ("eval_connection_id",)}),
        ("Kill switch", {"fields": ("is_blocked", "blocked_reason")}),
    )

    def internal_identity_fields(self, obj: User | None) -> tuple[str, ...]:
        # obj is the user: an internal member's email is whom Sigma signs in.
        return ("internal", "sigma_email") if has_internal_identity(obj) else ("internal",)


class AttributeFormSet(
    BaseInlineFormSet[SigmaProfileAttribute, SigmaProfile, ModelForm[SigmaProfileAttribute]]
):
    """User attribute rows of a *user*: they hang off the user's SigmaProfile.

    The admin hands this formset the User; it resolves the profile, so the rows can
    be edited on the user page without a separate page. Saving goes through
    ``services.set_user_attributes`` (``SigmaUserAdminMixin.save_formset``), which
    gives the user a profile when they get their first attribute.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
        instance: User | None = None,
        **kwargs: Any,
    ) -> None:
        self.user = instance
        profile = None
        if instance is not None and instance.pk is not None:
            profile = SigmaProfile.objects.filter(user=instance).first()
        super().__init__(data, files, instance=profile or SigmaProfile(), **kwargs)


class SigmaAttributeInline(TabularInline[SigmaProfileAttribute, SigmaProfile]):
    model = SigmaProfileAttribute
    formset = AttributeFormSet
    extra = 1
    fields = ("attribute", "value")
    verbose_name = "Sigma user attribute"
    verbose_name_plural = "Sigma user attributes (row-level security values)"

    def __init__(self, parent_model: type[Model], admin_site: AdminSite) -> None:
        # The rows' foreign key points at SigmaProfile, not User: build (and check)
        # the inline against the profile; AttributeFormSet maps the user to it.
        super().__init__(SigmaProfile, admin_site)


class GroupMappingInline(
    InternalIdentityFieldsMixin[GroupMapping, Group], StackedInline[GroupMapping, Group]
):
    model = GroupMapping
    max_num = 1
    verbose_name_plural = "Sigma mapping (members get these teams and this account type)"
    filter_horizontal = ("teams",)
    fields = ("account_type", "teams", "internal", "eval_connection_id")

    def has_delete_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: Group | None = None
    ) -> bool:
        # obj is the group: removing an internal group's mapping changes who is
        # signed in as an internal member (services.delete_group_mapping refuses too).
        allowed = super().has_delete_permission(request, obj)
        return allowed and _may_unmap(request, [obj] if obj is not None else [])


def _may_unmap(request: HttpRequest, groups: list[Group] | QuerySet[Group]) -> bool:
    """Whether ``request.user`` may remove these groups' mappings: an internal
    group's needs ``embeds.assign_internal_identity`` (its members stop being
    internal; their ``User.email`` becomes editable without the permission)."""
    if may_assign_internal_identity(request.user):
        return True
    return not GroupMapping.objects.filter(group__in=groups, internal=True).exists()


def _account_type_label(user: User) -> str:
    profile: SigmaProfile | None = getattr(user, "sigma_profile", None)
    if profile is not None and profile.account_type is not None:
        return profile.account_type.name
    names = sorted(
        set(
            GroupMapping.objects.filter(group__user=user, account_type__isnull=False).values_list(
                "account_type__name", flat=True
            )
        )
    )
    if not names:
        return "none"
    if len(names) > 1:
        return "ambiguous: " + ", ".join(names)
    return names[0]


class SigmaUserAdminMixin(
    SigmaCheckOnSaveMixin["User"], ChangeContextMixin["User"], SiteUserAdmin["User"]
):
    """Sigma columns, filters and inlines for a site's ``UserAdmin``.

    Put it before the admin class it extends and spread the ``sigma_*`` tuples into
    the site's own options::

        class UserAdmin(SigmaUserAdminMixin, django.contrib.auth.admin.UserAdmin):
            inlines = SigmaUserAdminMixin.sigma_inlines
            list_display = (*UserAdmin.list_display, *SigmaUserAdminMixin.sigma_list_display)
            list_filter = (*UserAdmin.list_filter, *SigmaUserAdminMixin.sigma_list_filter)
            actions = [*SigmaUserAdminMixin.sigma_actions]

    The change view also gets ``can_preview`` for a "Preview embeds as this user" link.

    Security: the email and password of a user signed in as an internal Sigma member
    (by their own mapping or a group's) need ``embeds.assign_internal_identity``:
    a group-internal member is signed in as ``User.email``, and whoever sets their
    password signs in as them. Their username too (``sigma_config`` matches users
    by username), and the email of any member of a group with a Sigma mapping (a
    permission holder may make that group internal later). Who may change
    privileges (superuser, staff, groups, permissions) is the site's own User
    admin's to decide (the host's
    ``accounts/admin.py`` leaves it to superusers).
    """

    sigma_inlines = [SigmaProfileInline, SigmaAttributeInline]
    sigma_list_display = ("sigma_teams", "sigma_account_type", "sigma_status")
    sigma_actions = (check_users_against_sigma_action,)
    sigma_list_filter = ("sigma_profile__is_blocked", "sigma_profile__teams")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .select_related("sigma_profile", "sigma_profile__account_type")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or may_assign_internal_identity(request.user):
            return fields
        if has_internal_identity(obj):
            # sigma_config matches users by username: renaming another account to
            # an internal member's name would hand it the member's entry.
            fields += [name for name in ("email", "username") if name not in fields]
        elif GroupMapping.objects.filter(group__user=obj).exists():
            # A permission holder may later make the group internal: the email
            # chosen now would then be the member whom Sigma signs in.
            fields += [name for name in ("email",) if name not in fields]
        return fields

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, id)
        if (
            user is not None
            and has_internal_identity(user)
            and not may_assign_internal_identity(request.user)
        ):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_inline_instances(
        self, request: HttpRequest, obj: User | None = None
    ) -> list[InlineModelAdmin[Any, Any]]:
        instances = super().get_inline_instances(request, obj)
        if obj is not None:
            return instances
        # Django's add page asks only for username and password first.
        sigma = tuple(self.sigma_inlines)
        return [inline for inline in instances if not isinstance(inline, sigma)]

    def change_context(self, request: HttpRequest) -> dict[str, object]:
        return {"can_preview": request.user.has_perm(PREVIEW_PERMISSION)}

    def sigma_check_targets(self, obj: User) -> CheckTargets:
        # The names this user's mapping sends (teams, account type, attributes).
        return {"users": [obj]}

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm[User],
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        # The Sigma inlines write through services, which record who changed the
        # mapping, the kill switch or the attributes, and invalidate the issuing
        # path's cache. The forms built the rows (and the change message's lists).
        if formset.model is not SigmaProfile and not isinstance(formset, AttributeFormSet):
            return super().save_formset(request, form, formset, change)
        rows = kept_rows(formset)
        if not formset.has_changed():
            return None
        user = form.instance
        if isinstance(formset, AttributeFormSet):
            services.set_user_attributes(
                user=user,
                values={row.attribute: row.value for row in rows},
                actor=request.user,
            )
            return None
        for profile_form in formset.forms:
            if profile_form.has_changed():  # the mapping cannot be deleted here
                profile = profile_form.instance
                profile.user = user
                services.save_sigma_profile(
                    profile=profile,
                    teams=profile_form.cleaned_data.get("teams"),
                    actor=request.user,
                )
        return None

    @admin.display(description="Sigma teams (own + groups)")
    def sigma_teams(self, user: User) -> str:
        names = Team.objects.filter(id__in=effective_team_ids(user)).values_list("name", flat=True)
        return ", ".join(names) or "—"

    @admin.display(description="Sigma account type")
    def sigma_account_type(self, user: User) -> str:
        return _account_type_label(user)

    @admin.display(description="embeds")
    def sigma_status(self, user: User) -> str:
        # What the user gets on every embed, not just whether an identity can be
        # built: a deactivated user or one in no team is refused everywhere.
        if not user.is_active:
            return "refused: user_inactive"
        try:
            identity = identity_for(user)
        except Refusal as refusal:
            return f"refused: {refusal.code}"
        if not identity.team_ids:
            return "no team"
        return "ok"


class SigmaGroupAdminMixin(AdminMixin[Group]):
    """Sigma columns and the mapping inline for a site's ``GroupAdmin`` (see above)."""

    sigma_inlines = [GroupMappingInline]
    sigma_list_display = ("sigma_teams", "sigma_account_type")

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        # Deleting the group deletes its mapping (cascade): the same rule.
        allowed = super().has_delete_permission(request, obj)
        return allowed and _may_unmap(request, [obj] if obj is not None else [])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        # The list's "delete selected" asks has_delete_permission without a group.
        if not _may_unmap(request, queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm[Group],
        formset: BaseInlineFormSet[Any, Group, Any],
        change: bool,
    ) -> None:
        # The group's mapping goes through its service (recorded, cache invalidated).
        if formset.model is not GroupMapping:
            return super().save_formset(request, form, formset, change)
        kept_rows(formset)  # fills the change message's lists
        group = form.instance
        for mapping_form in formset.forms:
            mapping = mapping_form.instance
            if mapping_form in formset.deleted_forms:
                if mapping.pk is not None:
                    services.delete_group_mapping(group=group, actor=request.user)
            elif mapping_form.has_changed():
                services.save_group_mapping(
                    group=group,
                    account_type=mapping.account_type,
                    teams=mapping_form.cleaned_data.get("teams", ()),
                    internal=mapping.internal,
                    eval_connection_id=mapping.eval_connection_id,
                    actor=request.user,
                )
        return None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return (
            super()
            .get_queryset(request)
            .select_related("sigma_mapping__account_type")
            .prefetch_related("sigma_mapping__teams")
        )

    @admin.display(description="Sigma teams")
    def sigma_teams(self, group: Group) -> str:
        mapping: GroupMapping | None = getattr(group, "sigma_mapping", None)
        if mapping is None:
            return "—"
        return ", ".join(t.name for t in mapping.teams.all()) or "—"

    @admin.display(description="Sigma account type")
    def sigma_account_type(self, group: Group) -> str:
        mapping: GroupMapping | None = getattr(group, "sigma_mapping", None)
        if mapping is None or mapping.account_type is None:
            return "—"
        return mapping.account_type.name
