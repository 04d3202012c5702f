"""Pieces every admin module of this app shares: reasons and how many users a change affects."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from ..models import Embed

MSG_REASON_REQUIRED = "Say why: the reason is recorded with your name and the time."


def viewer_count(embed: Embed) -> int:
    """Active, unblocked host users who share a team with ``embed``."""
    team_ids = list(embed.teams.values_list("id", flat=True))
    if not team_ids:
        return 0
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(sigma_profile__teams__in=team_ids) | Q(groups__sigma_mapping__teams__in=team_ids))
        .exclude(sigma_profile__is_blocked=True)
        .distinct()
        .count()
    )


def reason_field(*, max_length: int, help_text: str) -> forms.CharField:
    """A required reason, as long as the column that stores it."""
    return forms.CharField(
        label="Reason",
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
        error_messages={"required": MSG_REASON_REQUIRED},
    )


class ReasonForm(forms.Form):
    """A required, recorded reason (revoke a credential, disable embeds)."""

    reason = reason_field(
        max_length=500,
        help_text="Recorded with your name and the time, and shown on the credential.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(MSG_REASON_REQUIRED, code="reason_required")
        return reason
