"""Registries of exact Sigma names: teams, account types, user attributes."""

from __future__ import annotations

from django.db import models

from embeds.protocol.validators import validate_attribute_name


class RegistryEntry(models.Model):
    """An exact Sigma name (case and spaces matter), as tokens carry it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # Sigma's own id, recorded by the registry sync: names are what tokens carry;
    # the id lets the next sync tell a team renamed in Sigma (same id, new name)
    # from one deleted and another created.
    sigma_id = models.CharField(
        "Sigma ID", max_length=100, blank=True, editable=False, db_index=True
    )

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(RegistryEntry):
    """A Sigma team, by its exact Sigma name."""

    name = models.CharField(max_length=200, unique=True)


class AccountType(RegistryEntry):
    """A Sigma account type name (View, Build or a custom type)."""


class UserAttribute(RegistryEntry):
    """A user attribute defined in Sigma (Administration > User attributes)."""

    def clean(self) -> None:
        validate_attribute_name(self.name)
