"""Admin for embeds: the content URL, who may view it, kill switch, interface options.

Actions: sign with another credential, disable (with a reason), enable; each
confirmation lists the embeds and how many users each change affects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils.translation import ngettext, ngettext_lazy

from embeds import services
from embeds.admin import preview, remote
from embeds.admin.common import (
    BaseInlineFormSet,
    ChangeContextMixin,
    CheckTargets,
    Confirmation,
    ConfirmationMixin,
    FormData,
    ModelAdmin,
    ModelForm,
    ReasonForm,
    ServiceFormMixin,
    ServiceModelForm,
    SigmaCheckOnSaveMixin,
    TabularInline,
    admin_pages,
    counted,
    kept_rows,
    reason_field,
    require_reason,
    viewer_count,
)
from embeds.models import Credential, Embed, EmbedControl
from embeds.protocol.validators import BOOLEAN_OPTIONS, BUILTIN_THEMES, SigmaContent
from embeds.validators import parse_sigma_url

MSG_DISABLED_REASON = (
    "Say why the embed is switched off: viewers are told it is off, admins see the reason."
)
# Sigma's "Embed URL parameters" (JWT): hide_menu "only applies when menu_position
# is set to top or bottom", and menu_position "When no value is specified, defaults
# to none". A no-op, not an error: the embed is saved, the admin is told.
MSG_HIDE_MENU_WITHOUT_MENU = (
    "Hide menu has no effect here: Sigma applies it only when the menu position is "
    "top or bottom (with no menu position, Sigma uses none)."
)
HELP_HIDE_MENU = "Only with menu position top or bottom; Sigma ignores it otherwise."
CONFIRM_TEMPLATE = "admin/embeds/embed/confirm.html"
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


class EmbedAdminForm(ServiceModelForm[Embed]):
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
            "lng_variant",
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
            "hide_menu": HELP_HIDE_MENU,
            "menu_position": "Empty: Sigma's default, which for JWT-signed URLs is none (no menu).",
            "is_enabled": "Kill switch: when off, every view of this embed is refused "
            "(the embed and its settings are kept).",
        }

    builtin_themes = BUILTIN_THEMES

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        # Parse here (not only in the model validator) so the one message about
        # what is wrong appears next to the field, before anything else.
        return parse_sigma_url(url).url

    def clean(self) -> dict[str, Any]:
        super().clean()
        require_reason(
            self,
            switched_off=self.cleaned_data.get("is_enabled") is False,
            field="disabled_reason",
            message=MSG_DISABLED_REASON,
        )
        return self.cleaned_data

    def save(self, commit: bool = True) -> Embed:
        """Save through ``services.save_embed`` (teams included): switching the embed
        on or off, or to another credential, is recorded exactly as the matching
        action records it, and a change of teams as ``embed_teams_changed``.

        With ``commit=False`` nothing is written yet: the admin validates the inline
        controls only after this call, so the row is saved in
        ``EmbedAdmin.save_model``, once every form is valid (an invalid control must
        not leave a half-saved embed behind). ``save_m2m`` then has nothing left to
        do: the teams went with the row.
        """
        if not commit:
            # As Django's own save(commit=False) does, save_m2m is set on the form.
            self.save_m2m = lambda: None  # type: ignore[method-assign]
            return self.instance
        self.instance = services.save_embed(
            embed=self.instance, teams=self.cleaned_data.get("teams"), actor=self.actor
        )
        return self.instance


class EmbedKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(
        self, request: HttpRequest, model_admin: ModelAdmin[Embed]
    ) -> tuple[tuple[str, str], ...]:
        return (("workbook", "Workbook"), ("page", "Page"), ("element", "Element"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Embed]) -> QuerySet[Embed]:
        value = self.value()
        if value == "element":
            return queryset.filter(url__contains="/element/")
        if value == "page":
            return queryset.filter(url__contains="/page/")
        if value == "workbook":
            return queryset.exclude(url__contains="/element/").exclude(url__contains="/page/")
        return queryset


class EmbedControlInline(TabularInline[EmbedControl, Embed]):
    model = EmbedControl
    extra = 0
    fields = ("control_id", "type", "default_value", "allow_from_query")

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "default_value":
            # One value per line for lists; a single line for everything else.
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class EmbedAdmin(
    SigmaCheckOnSaveMixin[Embed],
    ServiceFormMixin[Embed],
    ConfirmationMixin[Embed],
    ChangeContextMixin[Embed],
    ModelAdmin[Embed],
):
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
            "Connection switching",
            {
                "fields": ("eval_connection_id",),
                "classes": ("collapse",),
                "description": "Sigma runs this content on another connection (a user's or "
                "group's mapping overrides it). Not applicable with write-back features.",
            },
        ),
        (
            "Interface options",
            {
                "fields": ("theme", "menu_position", "language", "lng_variant", *BOOLEAN_OPTIONS),
                "description": "Sent as URL parameters after the token (not signed): "
                "cosmetic only, never for security. All are in Sigma's list of parameters "
                "for JWT-signed URLs except disable_mobile_view and hide_page_controls, "
                "which are outside that list (Sigma's QuickStarts show them with JWT "
                "embeds; see their help).",
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Embed]:
        return super().get_queryset(request).prefetch_related("teams")

    @staticmethod
    def _content_part(obj: Embed, part: Callable[[SigmaContent], str]) -> str:
        if obj.pk is None or not obj.url:
            return "—"
        try:
            return part(obj.content)
        except ValidationError:
            return "invalid URL"

    @admin.display(description="kind")
    def kind(self, obj: Embed) -> str:
        return self._content_part(obj, lambda content: content.kind)

    @admin.display(description="workbook ID")
    def workbook_id(self, obj: Embed) -> str:
        return self._content_part(obj, lambda content: content.workbook_id)

    @admin.display(description="teams")
    def team_names(self, obj: Embed) -> str:
        return ", ".join(t.name for t in obj.teams.all()) or "—"

    @admin.display(description="users who may view it")
    def viewers(self, obj: Embed) -> str:
        if obj.pk is None:
            # Unsaved (the add page); django-stubs types pk as the column's int.
            return "—"  # type: ignore[unreachable]
        return str(viewer_count(obj))

    def change_context(self, request: HttpRequest) -> dict[str, object]:
        return {"can_preview": request.user.has_perm(preview.PREVIEW_PERMISSION)}

    def get_urls(self) -> list[URLPattern]:
        return [
            *admin_pages(
                self,
                ("preview/", preview.preview, "embeds_embed_preview"),
                ("preview/outcome/", preview.preview_outcome, "embeds_embed_preview_outcome"),
                ("<path:object_id>/check/", remote.check_embed, "embeds_embed_check"),
                ("pick/", remote.content_picker, "embeds_embed_pick"),
                ("sigma-members/", remote.stale_members, "embeds_embed_sigma_members"),
            ),
            *super().get_urls(),
        ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        # New embeds follow the content's height (Sigma's :responsive_height and its
        # workbook:pageheight:onchange, spec §5.4): one scroll, the page's, never a
        # frame scrolling inside a page that scrolls. Untick for a fixed-height frame.
        initial = super().get_changeform_initial_data(request)
        # django-stubs types initial data as the query string's; a checkbox's is a bool.
        return {"responsive_height": True, **initial}  # type: ignore[dict-item]

    def save_model(
        self, request: HttpRequest, obj: Embed, form: EmbedAdminForm, change: bool
    ) -> None:
        # Every form and inline is valid by now: write the row through the service.
        form.instance = services.save_embed(
            embed=obj, teams=form.cleaned_data.get("teams"), actor=request.user
        )
        if obj.hide_menu and obj.menu_position not in ("top", "bottom"):
            messages.warning(request, MSG_HIDE_MENU_WITHOUT_MENU)

    def save_formset(
        self,
        request: HttpRequest,
        form: EmbedAdminForm,
        formset: BaseInlineFormSet[EmbedControl, Embed, ModelForm[EmbedControl]],
        change: bool,
    ) -> None:
        # The controls inline: the form built the rows, the service writes them and
        # records the change.
        rows = kept_rows(formset)
        if formset.has_changed() or not change:
            services.set_embed_controls(embed=form.instance, controls=rows, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Embed) -> None:
        services.delete_embeds(embeds=[obj], actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Embed]) -> None:
        services.delete_embeds(embeds=list(queryset), actor=request.user)

    def sigma_check_targets(self, obj: Embed) -> CheckTargets:
        # The embed's content, sharing with its teams, and its credential's owner.
        return {"embeds": [obj], "credentials": [obj.credential]}

    def _confirm_embeds(
        self, request: HttpRequest, queryset: QuerySet[Embed], confirmation: Confirmation[Embed]
    ) -> TemplateResponse | None:
        embeds = list(queryset.select_related("credential").prefetch_related("teams"))
        rows = [{"embed": e, "users": viewer_count(e)} for e in embeds]
        return self.confirm(request, embeds, confirmation, rows=rows)

    @admin.action(description="Sign selected embeds with credential…", permissions=["change"])
    def switch_credential(
        self, request: HttpRequest, queryset: QuerySet[Embed]
    ) -> TemplateResponse | None:
        def apply(embed: Embed, data: FormData) -> bool:
            if embed.credential_id == data["credential"].pk:
                return False
            services.switch_embed_credential(
                embed=embed, credential=data["credential"], actor=request.user
            )
            return True

        return self._confirm_embeds(
            request,
            queryset,
            Confirmation(
                title="Sign embeds with another credential",
                intro="Each embed below signs its next token with the credential you choose. "
                "Tokens already handed out stay valid until they expire or are used.",
                template=CONFIRM_TEMPLATE,
                form_class=SwitchCredentialForm,
                action="switch_credential",
                apply=apply,
                log=lambda embed, data: (
                    f"Signs with credential {data['credential']} (was {embed.credential})."
                ),
                done=lambda count, data: (
                    ngettext(
                        "%(count)d embed now signs with %(credential)s from its next request.",
                        "%(count)d embeds now sign with %(credential)s from their next request.",
                        count,
                    )
                    % {"count": count, "credential": data["credential"]}
                ),
            ),
        )

    @admin.action(description="Disable selected embeds (kill switch)…", permissions=["change"])
    def disable_selected(
        self, request: HttpRequest, queryset: QuerySet[Embed]
    ) -> TemplateResponse | None:
        def apply(embed: Embed, data: FormData) -> bool:
            if not embed.is_enabled:
                return False
            services.disable_embed(embed=embed, actor=request.user, reason=data["reason"])
            return True

        return self._confirm_embeds(
            request,
            queryset,
            Confirmation(
                title="Disable embeds",
                intro="Every view of the embeds below is refused from the next request. "
                "Nothing is deleted.",
                template=CONFIRM_TEMPLATE,
                form_class=DisableEmbedsForm,
                action="disable_selected",
                apply=apply,
                log=lambda embed, data: f"Disabled. Reason: {data['reason']}",
                done=counted(
                    ngettext_lazy(
                        "%(count)d embed was disabled; it is refused from the next request.",
                        "%(count)d embeds were disabled; they are refused from the next request.",
                        "count",
                    )
                ),
            ),
        )

    @admin.action(description="Enable selected embeds", permissions=["change"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[Embed]) -> None:
        # Switching on takes effect at once and needs no reason: no confirmation page.
        embeds = list(queryset.filter(is_enabled=False))
        with transaction.atomic():
            for embed in embeds:
                services.enable_embed(embed=embed, actor=request.user)
                self.log_change(request, embed, "Enabled.")
        self.message_user(
            request,
            ngettext("%(count)d embed was enabled.", "%(count)d embeds were enabled.", len(embeds))
            % {"count": len(embeds)},
            messages.SUCCESS,
        )
