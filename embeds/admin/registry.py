"""Admin for the registries of exact Sigma names: teams, account types, user attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypedDict

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern

from embeds import services
from embeds.admin import remote
from embeds.admin.common import (
    CheckTargets,
    ModelAdmin,
    ModelForm,
    SigmaCheckOnSaveMixin,
    admin_pages,
)
from embeds.models import AccountType, Team, UserAttribute
from embeds.protocol.validators import validate_attribute_name
from embeds.services.registry import RegistryEntry

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MSG_NAME_WHITESPACE = (
    "Remove the spaces at the start or end: Sigma compares names exactly, so "
    "%(name)r would not match."
)


class RegistryForm(ModelForm[RegistryEntry], Generic[RegistryEntry]):
    """Teams, account types and attribute names: exact Sigma names, never trimmed."""

    name = forms.CharField(max_length=200, strip=False)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if name != name.strip():
            raise ValidationError(
                MSG_NAME_WHITESPACE, code="name_whitespace", params={"name": name}
            )
        return name


class UserAttributeForm(RegistryForm[UserAttribute]):
    """Attribute names as Sigma defines them, the error next to the name field."""

    def clean_name(self) -> str:
        name = super().clean_name()
        validate_attribute_name(name)
        return name

    def _post_clean(self) -> None:
        # UserAttribute.clean() repeats the name rule as a non-field error; once
        # the field has its own message, one is enough.
        # (_post_clean is Django's own hook for that step; django-stubs omits it.)
        if not self.has_error("name"):
            super()._post_clean()  # type: ignore[misc]


class RegistryAdmin(ModelAdmin[RegistryEntry], Generic[RegistryEntry]):
    form: type[RegistryForm[RegistryEntry]] = RegistryForm
    # Named, not derived from the model: Team redefines the name (longer) of the
    # registries' shared base, which moves it after the base's fields.
    fields = ("name", "description")
    search_fields = ("name", "description")
    list_display: tuple[str, ...] = ("name", "description")

    # Saves and deletes go through the registry service (the issuing path's cache
    # holds these names).
    def save_model(
        self,
        request: HttpRequest,
        obj: RegistryEntry,
        form: RegistryForm[RegistryEntry],
        change: bool,
    ) -> None:
        services.save_registry_entry(entry=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: RegistryEntry) -> None:
        services.delete_registry_entries(entries=[obj], actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RegistryEntry]) -> None:
        services.delete_registry_entries(entries=list(queryset), actor=request.user)


class _EmbedTotal(TypedDict):
    embed_total: int


class TeamAdmin(SigmaCheckOnSaveMixin[Team], RegistryAdmin[Team]):
    list_display = ("name", "description", "embed_count")

    def sigma_check_targets(self, obj: Team) -> CheckTargets:
        # Does Sigma have a team of this exact name (embeds.R001)?
        return {"teams": [obj]}

    def get_urls(self) -> list[URLPattern]:
        # One sync page for the three registries; it lives under teams.
        return [
            *admin_pages(self, ("sync/", remote.registry_sync, "embeds_team_sync")),
            *super().get_urls(),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(embed_total=Count("embeds"))

    @admin.display(description="embeds", ordering="embed_total")
    def embed_count(self, obj: WithAnnotations[Team, _EmbedTotal]) -> int:
        return obj.embed_total


class AccountTypeAdmin(RegistryAdmin[AccountType]):
    pass


class UserAttributeAdmin(RegistryAdmin[UserAttribute]):
    form = UserAttributeForm
