"""Forms of the emulated organization's admin pages."""

from __future__ import annotations

from django import forms

from .models import Member, Team

MSG_NO_PRIVILEGE = "Choose at least one privilege: Embedding or REST API."


class CredentialForm(forms.Form):
    """Sigma's "Create new" client credentials form (Developer Access)."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False)
    embed_privilege = forms.BooleanField(label="Embedding", required=False, initial=True)
    api_privilege = forms.BooleanField(label="REST API", required=False)
    owner = forms.ModelChoiceField(
        queryset=Member.objects.filter(kind=Member.Kind.INTERNAL, is_archived=False),
        to_field_name="member_id",
        help_text="Only credentials owned by an Admin can sign in users other than the owner.",
    )

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("embed_privilege") or cleaned.get("api_privilege")):
            raise forms.ValidationError(MSG_NO_PRIVILEGE, code="no_privilege")
        return cleaned


class TeamRenameForm(forms.Form):
    name = forms.CharField(max_length=200)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if Team.objects.filter(name=name).exclude(pk=self.team.pk).exists():
            raise forms.ValidationError("A team with this name exists.", code="duplicate")
        return name
