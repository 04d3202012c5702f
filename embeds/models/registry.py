"""Registries of exact Sigma names: teams, account types, user attributes."""

from __future__ import annotations

from django.db import models

from embeds.protocol.validators import validate_attribute_name


def sigma_id_field() -> models.CharField:
    """Sigma's own id of a registry row, recorded by the registry sync.

    Names are what tokens carry; the id lets the next sync tell a team renamed in
    Sigma (same id, new name) from one deleted and another created.
    """
    return models.CharField("Sigma ID", max_length=100, blank=True, editable=False, db_index=True)


class Team(models.Model):
    """A Sigma team, by its exact Sigma name (case and spaces matter)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    sigma_id = sigma_id_field()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountType(models.Model):
    """A Sigma account type name (View, Build or a custom type)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sigma_id = sigma_id_field()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserAttribute(models.Model):
    """A user attribute defined in Sigma (Administration > User attributes)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sigma_id = sigma_id_field()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_attribute_name(self.name)
