"""Admin for the registries of exact Sigma names: teams, account types, user attributes."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import path

from embeds import services
from embeds.admin import remote
from embeds.admin.common import SigmaCheckOnSaveMixin
from embeds.models import Team
from embeds.protocol.validators import validate_attribute_name

MSG_NAME_WHITESPACE = (
    "Remove the spaces at the start or end: Sigma compares names exactly, so "
    "%(name)r would not match."
)


class RegistryForm(forms.ModelForm):
    """Teams, account types and attribute names: exact Sigma names, never trimmed."""

    name = forms.CharField(max_length=200, strip=False)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name != name.strip():
            raise ValidationError(
                MSG_NAME_WHITESPACE, code="name_whitespace", params={"name": name}
            )
        return name


class UserAttributeForm(RegistryForm):
    """Attribute names as Sigma defines them, the error next to the name field."""

    def clean_name(self) -> str:
        name = super().clean_name()
        validate_attribute_name(name)
        return name

    def _post_clean(self) -> None:
        # UserAttribute.clean() repeats the name rule as a non-field error; once
        # the field has its own message, one is enough.
        if not self.has_error("name"):
            super()._post_clean()


class RegistryAdmin(admin.ModelAdmin):
    form = RegistryForm
    # Named, not derived from the model: Team redefines the name (longer) of the
    # registries' shared base, which moves it after the base's fields.
    fields = ("name", "description")
    search_fields = ("name", "description")
    list_display = ("name", "description")

    # Saves and deletes go through the registry service (the issuing path's cache
    # holds these names).
    def save_model(self, request, obj, form, change):
        services.save_registry_entry(entry=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.delete_registry_entries(entries=[obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        services.delete_registry_entries(entries=list(queryset), actor=request.user)


class TeamAdmin(SigmaCheckOnSaveMixin, RegistryAdmin):
    list_display = ("name", "description", "embed_count")

    def sigma_check_targets(self, obj) -> dict:
        # Does Sigma have a team of this exact name (embeds.R001)?
        return {"teams": [obj]}

    def get_urls(self):
        # One sync page for the three registries; it lives under teams.
        return [
            path(
                "sync/",
                self.admin_site.admin_view(remote.registry_sync),
                name="embeds_team_sync",
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(embed_total=Count("embeds"))

    @admin.display(description="embeds", ordering="embed_total")
    def embed_count(self, obj: Team) -> int:
        return obj.embed_total


class AccountTypeAdmin(RegistryAdmin):
    pass


class UserAttributeAdmin(RegistryAdmin):
    form = UserAttributeForm
