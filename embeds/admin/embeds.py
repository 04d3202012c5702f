"""Admin for embeds: the content URL, who may view it, kill switch, interface options.

Actions: sign with another credential, disable (with a reason), enable; each
confirmation lists the embeds and how many users each change affects.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import ngettext

from ..models import Credential, Embed, EmbedControl
from ..validators import BOOLEAN_OPTIONS, BUILTIN_THEMES, parse_sigma_url
from . import preview, remote
from .common import ReasonForm, reason_field, viewer_count

MSG_DISABLED_REASON = (
    "Say why the embed is switched off: viewers are told it is off, admins see the reason."
)
MSG_SAME_CREDENTIAL = "Choose a different credential: some embeds already use it."


class DisableEmbedsForm(ReasonForm):
    """Why the embeds are switched off; stored on each embed (``disabled_reason``)."""

    reason = reason_field(
        max_length=300, help_text="Recorded on each embed and in the change history."
    )


class SwitchCredentialForm(forms.Form):
    credential = forms.ModelChoiceField(
        queryset=Credential.objects.filter(is_active=True),
        label="Sign with",
        help_text="Only active credentials are offered.",
        empty_label=None,
    )


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


class EmbedKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return (("workbook", "Workbook"), ("page", "Page"), ("element", "Element"))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "element":
            return queryset.filter(url__contains="/element/")
        if value == "page":
            return queryset.filter(url__contains="/page/")
        if value == "workbook":
            return queryset.exclude(url__contains="/element/").exclude(url__contains="/page/")
        return queryset


class EmbedControlInline(admin.TabularInline):
    model = EmbedControl
    extra = 0
    fields = ("control_id", "default_value", "allow_from_query")


class EmbedAdmin(admin.ModelAdmin):
    form = EmbedAdminForm
    list_display = ("title", "slug", "kind", "credential", "is_enabled", "team_names")
    list_filter = ("credential", EmbedKindFilter, "teams", "is_enabled")
    search_fields = ("title", "slug", "url")
    list_select_related = ("credential",)
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("teams",)
    inlines = [EmbedControlInline]
    actions = [
        "switch_credential",
        "disable_selected",
        "enable_selected",
        remote.check_against_sigma_action,
    ]
    change_form_template = "admin/embeds/embed/change_form.html"
    readonly_fields = ("kind", "workbook_id", "viewers")
    fieldsets = (
        (None, {"fields": ("title", "slug", "url", "kind", "workbook_id")}),
        ("Who may view it", {"fields": ("credential", "teams", "viewers", "token_ttl")}),
        ("Kill switch", {"fields": ("is_enabled", "disabled_reason")}),
        (
            "Interface options",
            {
                "fields": ("theme", "menu_position", "language", *BOOLEAN_OPTIONS),
                "description": "Sent as URL parameters after the token (not signed): "
                "cosmetic only, never for security.",
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("teams")

    @staticmethod
    def _content_part(obj: Embed, part: str) -> str:
        if obj.pk is None or not obj.url:
            return "—"
        try:
            return getattr(obj.content, part)
        except ValidationError:
            return "invalid URL"

    @admin.display(description="kind")
    def kind(self, obj: Embed) -> str:
        return self._content_part(obj, "kind")

    @admin.display(description="workbook ID")
    def workbook_id(self, obj: Embed) -> str:
        return self._content_part(obj, "workbook_id")

    @admin.display(description="teams")
    def team_names(self, obj: Embed) -> str:
        return ", ".join(t.name for t in obj.teams.all()) or "—"

    @admin.display(description="users who may view it")
    def viewers(self, obj: Embed) -> str:
        if obj.pk is None:
            return "—"
        return str(viewer_count(obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_preview": request.user.has_perm(preview.PREVIEW_PERMISSION),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(preview.preview),
                name="embeds_embed_preview",
            ),
            path(
                "pick/",
                self.admin_site.admin_view(remote.content_picker),
                name="embeds_embed_pick",
            ),
            *super().get_urls(),
        ]

    def _embed_confirmation(self, request, queryset, *, title, intro, form, action):
        embeds = list(queryset.select_related("credential").prefetch_related("teams"))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "opts": self.opts,
            "rows": [{"embed": e, "users": viewer_count(e)} for e in embeds],
            "form": form,
            "action": action,
            "queryset": embeds,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/embeds/embed/confirm.html", context)

    @admin.action(description="Sign selected embeds with credential…", permissions=["change"])
    def switch_credential(self, request, queryset):
        form = SwitchCredentialForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            target = form.cleaned_data["credential"]
            changed = 0
            with transaction.atomic():
                for embed in queryset.select_related("credential"):
                    if embed.credential_id == target.pk:
                        continue
                    previous = embed.credential
                    embed.credential = target
                    embed.save(update_fields=["credential", "updated_at"])
                    self.log_change(
                        request, embed, f"Signs with credential {target} (was {previous})."
                    )
                    changed += 1
            self.message_user(
                request,
                ngettext(
                    "%(count)d embed now signs with %(credential)s from its next request.",
                    "%(count)d embeds now sign with %(credential)s from their next request.",
                    changed,
                )
                % {"count": changed, "credential": target},
                messages.SUCCESS,
            )
            return None
        return self._embed_confirmation(
            request,
            queryset,
            title="Sign embeds with another credential",
            intro="Each embed below signs its next token with the credential you choose. "
            "Tokens already handed out stay valid until they expire or are used.",
            form=form,
            action="switch_credential",
        )

    @admin.action(description="Disable selected embeds (kill switch)…", permissions=["change"])
    def disable_selected(self, request, queryset):
        form = DisableEmbedsForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            embeds = list(queryset.filter(is_enabled=True))
            with transaction.atomic():
                for embed in embeds:
                    embed.is_enabled = False
                    embed.disabled_reason = reason
                    embed.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
                    self.log_change(request, embed, f"Disabled. Reason: {reason}")
            self.message_user(
                request,
                ngettext(
                    "%(count)d embed was disabled; it is refused from the next request.",
                    "%(count)d embeds were disabled; they are refused from the next request.",
                    len(embeds),
                )
                % {"count": len(embeds)},
                messages.SUCCESS,
            )
            return None
        return self._embed_confirmation(
            request,
            queryset,
            title="Disable embeds",
            intro="Every view of the embeds below is refused from the next request. "
            "Nothing is deleted.",
            form=form,
            action="disable_selected",
        )

    @admin.action(description="Enable selected embeds", permissions=["change"])
    def enable_selected(self, request, queryset):
        embeds = list(queryset.filter(is_enabled=False))
        with transaction.atomic():
            for embed in embeds:
                embed.is_enabled = True
                embed.disabled_reason = ""
                embed.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
                self.log_change(request, embed, "Enabled.")
        self.message_user(
            request,
            ngettext("%(count)d embed was enabled.", "%(count)d embeds were enabled.", len(embeds))
            % {"count": len(embeds)},
            messages.SUCCESS,
        )
