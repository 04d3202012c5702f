"""Admin for credentials, registries and embeds.

Credentials: the secret is write-only (a password input on add, a separate
"Replace secret" page asking twice); the change page shows a fingerprint and
dates, never the field. Revoke / re-activate and "sign with credential …" are
actions with a confirmation page listing every embed and how many users each
change affects. The preview (``admin_views.preview``) signs for another user
inside the admin page, through the one signing path.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from . import (
    admin_views,
    audit_admin,  # noqa: F401  (registers the audit trail's admin)
    services,
)
from .forms import (
    CredentialAddForm,
    CredentialChangeForm,
    DisableEmbedsForm,
    EmbedAdminForm,
    RegistryForm,
    ReplaceSecretForm,
    RevokeForm,
    SwitchCredentialForm,
    UserAttributeForm,
)
from .models import AccountType, Credential, Embed, EmbedControl, Team, UserAttribute
from .validators import BOOLEAN_OPTIONS

sensitive_post_parameters_m = method_decorator(sensitive_post_parameters())

# Fields that hold or derive from the secret: never a lookup, filter or search.
SECRET_LOOKUP_FIELDS = ("secret", "secret_fingerprint")


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


def impact_rows(credentials) -> list[dict]:
    """For a confirmation page: every credential, each embed it signs, users affected."""
    rows = []
    for credential in credentials:
        embeds = list(credential.embeds.prefetch_related("teams").order_by("title"))
        rows.append(
            {
                "credential": credential,
                "embeds": [
                    {
                        "embed": embed,
                        "teams": ", ".join(t.name for t in embed.teams.all()) or "no team",
                        "users": viewer_count(embed),
                    }
                    for embed in embeds
                ],
            }
        )
    return rows


# --- Credentials ----------------------------------------------------------------


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialChangeForm
    add_form = CredentialAddForm
    list_display = (
        "name",
        "client_id",
        "status",
        "owner_email",
        "owner_is_admin",
        "embeds_link",
        "fingerprint",
        "secret_rotated_at",
        "last_used_at",
    )
    list_filter = ("is_active", "owner_is_admin")
    # Never the secret or its fingerprint (see lookup_allowed).
    search_fields = ("name", "client_id", "owner_email")
    actions = ["revoke_selected", "activate_selected"]
    change_form_template = "admin/embeds/credential/change_form.html"
    add_fieldsets = (
        (None, {"fields": ("name", "client_id", "embed_secret", "description")}),
        ("Owner in Sigma", {"fields": ("owner_email", "owner_is_admin")}),
    )
    fieldsets = (
        (None, {"fields": ("name", "client_id", "description")}),
        ("Owner in Sigma", {"fields": ("owner_email", "owner_is_admin")}),
        (
            "Secret",
            {
                "fields": ("fingerprint", "secret_rotated_at", "last_used_at"),
                "description": "The secret itself is never shown. Use “Replace secret” "
                "to enter a new one.",
            },
        ),
        ("Status", {"fields": ("status", "revoked_at", "revoked_by", "revoked_reason")}),
        ("Embeds signed with it", {"fields": ("embeds_using",)}),
    )
    readonly_fields = (
        "fingerprint",
        "secret_rotated_at",
        "last_used_at",
        "status",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
        "embeds_using",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(embed_total=Count("embeds"))

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def lookup_allowed(self, lookup, value, request=None):
        # Security: no ?secret__startswith=… oracle on the changelist.
        if lookup.split("__")[0] in SECRET_LOOKUP_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @sensitive_post_parameters_m
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_revoke": self.has_revoke_permission(request),
            "can_rotate": self.has_rotate_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        # New credentials go through the service (validates, encrypts, records the
        # rotation time). The admin then logs the addition; str() has no secret.
        data = form.cleaned_data
        form.save_m2m = lambda: None  # no many-to-many fields; nothing left to save
        return services.create_credential(
            name=data["name"],
            client_id=data["client_id"],
            secret=data["embed_secret"],
            description=data.get("description", ""),
            owner_email=data.get("owner_email", ""),
            owner_is_admin=data.get("owner_is_admin", False),
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # On add, save_form already created the row through the service.

    # --- display ---

    @admin.display(description="fingerprint")
    def fingerprint(self, obj: Credential) -> str:
        # A 12-hex SHA-256 prefix: tells secrets apart, never reveals one.
        return obj.secret_fingerprint or "—"

    @admin.display(description="status", boolean=False, ordering="is_active")
    def status(self, obj: Credential) -> str:
        if obj.is_active:
            return "Active"
        return "Revoked"

    @admin.display(description="embeds", ordering="embed_total")
    def embeds_link(self, obj: Credential):
        total = getattr(obj, "embed_total", None)
        if total is None:
            total = obj.embeds.count()
        url = reverse("admin:embeds_embed_changelist") + f"?credential__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, total)

    @admin.display(description="embeds using it")
    def embeds_using(self, obj: Credential):
        embeds = list(obj.embeds.order_by("title"))
        if not embeds:
            return "None: this credential can be deleted."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({})</li>',
            (
                (
                    reverse("admin:embeds_embed_change", args=[e.pk]),
                    e.title,
                    "enabled" if e.is_enabled else "disabled",
                )
                for e in embeds
            ),
        )
        return format_html('<ul class="embeds-using">{}</ul>', rows)

    # --- permissions for the actions (admin.E129) ---

    def has_revoke_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("embeds.revoke_credential")

    def has_rotate_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("embeds.rotate_credential")

    # --- revoke / re-activate ---

    @admin.action(description="Revoke selected credentials…", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        return self._revoke(request, queryset.filter(is_active=True), bulk=True)

    @admin.action(description="Re-activate selected credentials…", permissions=["revoke"])
    def activate_selected(self, request, queryset):
        return self._activate(request, queryset.filter(is_active=False), bulk=True)

    def _confirmation(self, request, *, title, intro, credentials, form, action, bulk):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "opts": self.opts,
            "rows": impact_rows(credentials),
            "form": form,
            "action": action if bulk else "",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "credentials": credentials,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/embeds/credential/confirm.html", context)

    def _apply_to_all(self, request, credentials, change, *, log: str, done: str) -> None:
        """Run one service call per credential in one transaction, log each, report once."""
        with transaction.atomic():
            for credential in credentials:
                change(credential)
                self.log_change(request, credential, log)
        self.message_user(request, done % {"count": len(credentials)}, messages.SUCCESS)

    def _revoke(self, request, queryset, *, bulk: bool):
        credentials = list(queryset)
        if not credentials:
            self.message_user(
                request, "None of the selected credentials is active.", messages.WARNING
            )
            return None
        form = RevokeForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._apply_to_all(
                request,
                credentials,
                lambda credential: services.revoke_credential(
                    credential=credential, actor=request.user, reason=reason
                ),
                log=f"Revoked. Reason: {reason}",
                done=ngettext(
                    "%(count)d credential was revoked; its embeds are refused from the "
                    "next request.",
                    "%(count)d credentials were revoked; their embeds are refused from the "
                    "next request.",
                    len(credentials),
                ),
            )
            return None
        return self._confirmation(
            request,
            title="Revoke credentials",
            intro="Every embed below stops working on its next request, for every user "
            "listed. Nothing is deleted; you can re-activate later.",
            credentials=credentials,
            form=form,
            action="revoke_selected",
            bulk=bulk,
        )

    def _activate(self, request, queryset, *, bulk: bool):
        credentials = list(queryset)
        if not credentials:
            self.message_user(
                request, "None of the selected credentials is revoked.", messages.WARNING
            )
            return None
        if request.POST.get("post"):
            self._apply_to_all(
                request,
                credentials,
                lambda credential: services.activate_credential(
                    credential=credential, actor=request.user
                ),
                log="Re-activated.",
                done=ngettext(
                    "%(count)d credential was re-activated.",
                    "%(count)d credentials were re-activated.",
                    len(credentials),
                ),
            )
            return None
        return self._confirmation(
            request,
            title="Re-activate credentials",
            intro="Every embed below signs again from its next request, for every user listed.",
            credentials=credentials,
            form=None,
            action="activate_selected",
            bulk=bulk,
        )

    # --- per-object pages: revoke, re-activate, replace secret ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/revoke/", wrap(self.revoke_view), name="embeds_credential_revoke"
            ),
            path(
                "<path:object_id>/activate/",
                wrap(self.activate_view),
                name="embeds_credential_activate",
            ),
            path(
                "<path:object_id>/replace-secret/",
                wrap(self.replace_secret_view),
                name="embeds_credential_replace_secret",
            ),
            *super().get_urls(),
        ]

    def _object_or_404(self, request, object_id, permission: str) -> Credential:
        if not getattr(self, f"has_{permission}_permission")(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def _back_to(self, credential: Credential) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:embeds_credential_change", args=[credential.pk]))

    def revoke_view(self, request, object_id):
        credential = self._object_or_404(request, object_id, "revoke")
        response = self._revoke(
            request, Credential.objects.filter(pk=credential.pk, is_active=True), bulk=False
        )
        return response or self._back_to(credential)

    def activate_view(self, request, object_id):
        credential = self._object_or_404(request, object_id, "revoke")
        response = self._activate(
            request, Credential.objects.filter(pk=credential.pk, is_active=False), bulk=False
        )
        return response or self._back_to(credential)

    @sensitive_post_parameters_m
    def replace_secret_view(self, request, object_id):
        credential = self._object_or_404(request, object_id, "rotate")
        form = ReplaceSecretForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                services.replace_credential_secret(
                    credential=credential, secret=form.cleaned_data["secret1"], actor=request.user
                )
            except ValidationError as exc:  # defence in depth; the form validated already
                form.add_error("secret1", exc)
            else:
                # The message names the action only: never a value or fingerprint.
                self.log_change(request, credential, "Replaced the embed secret.")
                self.message_user(
                    request,
                    f"The secret of {credential.name} was replaced. Tokens are signed "
                    "with the new one from the next request.",
                    messages.SUCCESS,
                )
                return self._back_to(credential)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Replace the secret of {credential.name}",
            "opts": self.opts,
            "original": credential,
            "form": form,
            "adminform": helpers.AdminForm(form, [(None, {"fields": ["secret1", "secret2"]})], {}),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/embeds/credential/replace_secret.html", context)


# --- Registries -----------------------------------------------------------------


class RegistryAdmin(admin.ModelAdmin):
    form = RegistryForm
    search_fields = ("name", "description")
    list_display = ("name", "description")


@admin.register(Team)
class TeamAdmin(RegistryAdmin):
    list_display = ("name", "description", "embed_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(embed_total=Count("embeds"))

    @admin.display(description="embeds", ordering="embed_total")
    def embed_count(self, obj: Team) -> int:
        return obj.embed_total


@admin.register(AccountType)
class AccountTypeAdmin(RegistryAdmin):
    pass


@admin.register(UserAttribute)
class UserAttributeAdmin(RegistryAdmin):
    form = UserAttributeForm


# --- Embeds -------------------------------------------------------------------------


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


@admin.register(Embed)
class EmbedAdmin(admin.ModelAdmin):
    form = EmbedAdminForm
    list_display = ("title", "slug", "kind", "credential", "is_enabled", "team_names")
    list_filter = ("credential", EmbedKindFilter, "teams", "is_enabled")
    search_fields = ("title", "slug", "url")
    list_select_related = ("credential",)
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("teams",)
    inlines = [EmbedControlInline]
    actions = ["switch_credential", "disable_selected", "enable_selected"]
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
            "can_preview": request.user.has_perm(admin_views.PREVIEW_PERMISSION),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(admin_views.preview),
                name="embeds_embed_preview",
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
