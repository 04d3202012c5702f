"""Admin forms: credentials (write-only secret), embeds, registries and the preview.

Secrets only ever enter through a password input that never renders a value back
(``render_value=False``) and is never trimmed (``strip=False``): a secret with
surrounding whitespace is refused with a message instead.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .models import Credential, Embed, validate_embed_secret
from .validators import (
    BOOLEAN_OPTIONS,
    BUILTIN_THEMES,
    parse_sigma_url,
    validate_attribute_name,
)

MSG_SECRETS_DIFFER = "The two secrets differ. Paste the same secret in both fields."
MSG_REASON_REQUIRED = "Say why: the reason is recorded with your name and the time."
MSG_DISABLED_REASON = (
    "Say why the embed is switched off: viewers are told it is off, admins see the reason."
)
MSG_NAME_WHITESPACE = (
    "Remove the spaces at the start or end: Sigma compares names exactly, so "
    "%(name)r would not match."
)
MSG_SAME_CREDENTIAL = "Choose a different credential: some embeds already use it."

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


class CredentialChangeForm(forms.ModelForm):
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

    field_order = [
        "name",
        "client_id",
        "embed_secret",
        "description",
        "owner_email",
        "owner_is_admin",
    ]

    def clean_embed_secret(self) -> str:
        secret = self.cleaned_data["embed_secret"]
        validate_embed_secret(secret)
        return secret


class ReplaceSecretForm(forms.Form):
    """A new embed secret, typed twice (like Django's SetPasswordForm)."""

    secret1 = secret_field(
        "New embed secret",
        "The new secret Sigma showed when you generated it. The old one is overwritten.",
    )
    secret2 = secret_field("New embed secret (again)", "The same secret, to catch a bad paste.")

    def clean_secret1(self) -> str:
        secret = self.cleaned_data["secret1"]
        validate_embed_secret(secret)
        return secret

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("secret1"), cleaned.get("secret2")
        if first and second and first != second:
            self.add_error("secret2", ValidationError(MSG_SECRETS_DIFFER, code="secret_mismatch"))
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with your name and the time, and shown on the credential.",
        error_messages={"required": MSG_REASON_REQUIRED},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(MSG_REASON_REQUIRED, code="reason_required")
        return reason


class DisableEmbedsForm(RevokeForm):
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on each embed and in the change history.",
        error_messages={"required": MSG_REASON_REQUIRED},
    )


class SwitchCredentialForm(forms.Form):
    credential = forms.ModelChoiceField(
        queryset=Credential.objects.filter(is_active=True),
        label="Sign with",
        help_text="Only active credentials are offered.",
        empty_label=None,
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


class EmbedAdminForm(forms.ModelForm):
    """Embeds: the URL validated by the spec's rules; interface options typed."""

    class Meta:
        model = Embed
        fields = [
            "title",
            "slug",
            "url",
            "credential",
            "teams",
            "token_ttl",
            "is_enabled",
            "disabled_reason",
            "theme",
            "menu_position",
            "language",
            *BOOLEAN_OPTIONS,
        ]
        widgets = {
            "url": forms.TextInput(attrs={"size": 90, "spellcheck": "false"}),
            "theme": forms.TextInput(attrs={"list": "sigma-themes", "placeholder": "Light"}),
            "disabled_reason": forms.TextInput(attrs={"size": 60}),
        }
        help_texts = {
            "theme": "Light, Dark, Surface, or the exact name of a custom theme defined in "
            "Sigma (case-sensitive). Empty: Sigma's default.",
            "language": "A Sigma locale, e.g. English or fr-ca. Empty: the workbook's own.",
            "is_enabled": "Kill switch: when off, every view of this embed is refused "
            "(the embed and its settings are kept).",
        }

    builtin_themes = BUILTIN_THEMES

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        # Parse here (not only in the model validator) so the one message about
        # what is wrong appears next to the field, before anything else.
        return parse_sigma_url(url).url

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("is_enabled") is False
            and not (cleaned.get("disabled_reason") or "").strip()
        ):
            self.add_error(
                "disabled_reason", ValidationError(MSG_DISABLED_REASON, code="reason_required")
            )
        return cleaned


class PreviewForm(forms.Form):
    """Which user and which embed to preview; nothing here changes who is logged in."""

    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        label="Sign in as",
        help_text="The token is signed for this user, with their own Sigma mapping.",
    )
    embed = forms.ModelChoiceField(queryset=Embed.objects.order_by("title"), label="Embed")
