"""What the model families share: a link to a host user that outlives the user, and
creation/update stamps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User


def user_reference(
    help_text: str = "", *, editable: bool = True
) -> models.ForeignKey[User | Combinable | None, User | None]:
    """An optional link to a host user (who did it, whom it was about).

    The row stays when the user is deleted (``SET_NULL``), so a revocation or an
    audit entry keeps its place in the trail; no reverse accessor (``+``), since a
    user has no use for "every row that mentions me".
    """
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=help_text,
        editable=editable,
    )


class Stamped(models.Model):
    """When a row was created and last saved (set by Django, never edited)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
