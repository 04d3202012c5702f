"""The credential admin's forms: the add form (the secret entered once, the privileges
and the owner chosen explicitly), the change form (never the secret), the secret's
replacement typed twice, and the reason for a revocation.

The secret's inputs are password inputs that never render a value back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from embeds import services
from embeds.admin.common import ReasonForm, ServiceModelForm
from embeds.models import Credential, validate_embed_secret

MSG_SECRETS_DIFFER = "The two secrets differ. Paste the same secret in both fields."
MSG_NO_PRIVILEGE = "Tick at least one privilege Sigma granted: Embedding or REST API."

OWNER_HELP = (
    "Sigma's rule: credentials owned by a Sigma Admin may sign in any user. "
    "Credentials owned by anyone else may only sign in that owner's own email; "
    "signing anyone else with them is refused before a token is made."
)


def secret_field(label: str, help_text: str = "") -> forms.CharField:
    # PasswordInput(render_value=False): the value is never written back into the
    # page, not even when the form comes back with an error.
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class CredentialChangeForm(ServiceModelForm[Credential]):
    """Everything about credentials except the secret (see ReplaceSecretForm)."""

    class Meta:
        model = Credential
        fields = ["name", "client_id", "description", "owner_email", "owner_is_admin"]
        help_texts = {"owner_is_admin": OWNER_HELP}


class CredentialAddForm(CredentialChangeForm):
    """New credentials: the secret is entered once, here, and never shown again."""

    # Not named "secret": that model field is non-editable, and a ModelForm may not
    # name it; this plain form field feeds services.create_credential instead.
    embed_secret = secret_field(
        "Embed secret",
        "Paste the secret exactly as Sigma showed it. It is stored encrypted and never "
        "shown again; only a short fingerprint is.",
    )

    # Chosen explicitly, never a silent default: most real credentials are owned by
    # an Admin, and a wrong "no" refuses every other user (owner_mismatch), a wrong
    # "yes" lets a non-Admin's credential sign anyone in (Sigma refuses those tokens).
    owner_is_admin = forms.TypedChoiceField(
        label="Owner is a Sigma Admin",
        choices=[
            ("yes", "Yes: the owner is an Admin in Sigma (these credentials may sign in any user)"),
            ("no", "No: the owner is not an Admin (only the owner's own email may be signed in)"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text=OWNER_HELP,
    )
    # What Sigma granted on Developer Access (the command's --api / --api-only).
    embed_privilege = forms.BooleanField(
        label="Embedding", required=False, initial=True, help_text="Signs embed URLs."
    )
    api_privilege = forms.BooleanField(
        label="REST API",
        required=False,
        help_text="Check against Sigma, registry sync and the content pickers use it.",
    )

    field_order = [
        "name",
        "client_id",
        "embed_secret",
        "description",
        "embed_privilege",
        "api_privilege",
        "owner_email",
        "owner_is_admin",
    ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not (cleaned.get("embed_privilege") or cleaned.get("api_privilege")):
            raise forms.ValidationError(MSG_NO_PRIVILEGE, code="no_privilege")
        return cleaned

    def clean_embed_secret(self) -> str:
        secret: str = self.cleaned_data["embed_secret"]
        validate_embed_secret(secret)
        return secret

    @method_decorator(sensitive_variables("data"))
    def save(self, commit: bool = True) -> Credential:
        """Create the credentials through ``services.create_credential``.

        The service validates, encrypts, records the rotation time and the event,
        so the row exists whatever ``commit`` says; many-to-many data (none today)
        follows Django's contract: saved now, or by the caller's ``save_m2m()``.
        """
        data = self.cleaned_data
        self.instance = services.create_credential(
            name=data["name"],
            client_id=data["client_id"],
            secret=data["embed_secret"],
            description=data.get("description", ""),
            owner_email=data.get("owner_email", ""),
            owner_is_admin=data.get("owner_is_admin", False),
            embed_privilege=data.get("embed_privilege", False),
            api_privilege=data.get("api_privilege", False),
            actor=self.actor,
        )
        # As Django's own save() does, with its private _save_m2m (which django-stubs
        # does not declare; it declares save_m2m a method, which save() replaces).
        if commit:
            self._save_m2m()  # type: ignore[attr-defined]
        else:
            self.save_m2m = self._save_m2m  # type: ignore[attr-defined,method-assign]
        return self.instance


class ReplaceSecretForm(forms.Form):
    """A new embed secret, typed twice (like Django's SetPasswordForm)."""

    secret1 = secret_field(
        "New embed secret",
        "The new secret Sigma showed when you generated it. The old one is overwritten.",
    )
    secret2 = secret_field("New embed secret (again)", "The same secret, to catch a bad paste.")

    def clean_secret1(self) -> str:
        secret: str = self.cleaned_data["secret1"]
        validate_embed_secret(secret)
        return secret

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("secret1"), cleaned.get("secret2")
        if first and second and first != second:
            self.add_error("secret2", ValidationError(MSG_SECRETS_DIFFER, code="secret_mismatch"))
        return cleaned


class RevokeForm(ReasonForm):
    """Why the credentials are revoked; shown on the credential."""
