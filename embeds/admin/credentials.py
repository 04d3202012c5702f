"""Admin for credentials: write-only secret, revoke / re-activate, replace the secret.

The secret is entered once (a password input on the add form) and replaced on its
own page asking twice; the change page shows a fingerprint and dates, never the
field. Revoke and re-activate are actions with a confirmation page listing every
embed and how many users each change affects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from embeds import services
from embeds.admin.common import (
    ChangeContextMixin,
    Confirmation,
    ConfirmationMixin,
    FormData,
    ModelAdmin,
    ServiceFormMixin,
    admin_pages,
    counted,
    viewer_count,
)
from embeds.admin.credential_forms import (
    MSG_NO_PRIVILEGE,
    MSG_SECRETS_DIFFER,
    OWNER_HELP,
    CredentialAddForm,
    CredentialChangeForm,
    ReplaceSecretForm,
    RevokeForm,
    secret_field,
)
from embeds.models import Credential

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

# The forms moved to credential_forms; their names stay importable from here.
__all__ = [
    "MSG_NO_PRIVILEGE",
    "MSG_SECRETS_DIFFER",
    "OWNER_HELP",
    "CredentialAddForm",
    "CredentialAdmin",
    "CredentialChangeForm",
    "ReplaceSecretForm",
    "RevokeForm",
    "impact_rows",
    "secret_field",
]

sensitive_post_parameters_m = method_decorator(sensitive_post_parameters())

CONFIRM_TEMPLATE = "admin/embeds/credential/confirm.html"
MSG_NONE_ACTIVE = "None of the selected credentials is active."
MSG_NONE_REVOKED = "None of the selected credentials is revoked."

# Fields that hold or derive from the secret: never a lookup, filter or search.
SECRET_LOOKUP_FIELDS = ("secret", "secret_fingerprint")


def impact_rows(credentials: Iterable[Credential]) -> list[dict[str, object]]:
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


class CredentialAdmin(
    ServiceFormMixin[Credential],
    ConfirmationMixin[Credential],
    ChangeContextMixin[Credential],
    ModelAdmin[Credential],
):
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
    add_fieldsets: _FieldsetSpec = (
        (None, {"fields": ("name", "client_id", "embed_secret", "description")}),
        ("Privileges in Sigma", {"fields": ("embed_privilege", "api_privilege")}),
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
        ("Security events", {"fields": ("security_events",)}),
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
        "security_events",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Credential]:
        return super().get_queryset(request).annotate(embed_total=Count("embeds"))

    def get_fieldsets(self, request: HttpRequest, obj: Credential | None = None) -> _FieldsetSpec:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Credential | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def get_form(
        self,
        request: HttpRequest,
        obj: Credential | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Credential]]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change, **kwargs)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Security: no ?secret__startswith=… oracle on the changelist.
        if lookup.split("__")[0] in SECRET_LOOKUP_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @sensitive_post_parameters_m
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().add_view(request, form_url, extra_context)

    def change_context(self, request: HttpRequest) -> dict[str, object]:
        return {
            "can_revoke": self.has_revoke_permission(request),
            "can_rotate": self.has_rotate_permission(request),
        }

    def save_model(
        self, request: HttpRequest, obj: Credential, form: CredentialChangeForm, change: bool
    ) -> None:
        if change:
            # The plain fields only; a change of owner is recorded
            # (credential_owner_changed). Never the secret or the status.
            services.update_credential(credential=obj, actor=request.user)
        # On add, the form's save() created the row through the service; the admin
        # then logs the addition (str() has no secret).

    def delete_model(self, request: HttpRequest, obj: Credential) -> None:
        services.delete_credentials(credentials=[obj], actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Credential]) -> None:
        services.delete_credentials(credentials=list(queryset), actor=request.user)

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
    def embeds_link(self, obj: Credential) -> str:
        total = getattr(obj, "embed_total", None)
        if total is None:
            total = obj.embeds.count()
        url = reverse("admin:embeds_embed_changelist") + f"?credential__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, total)

    @admin.display(description="embeds using it")
    def embeds_using(self, obj: Credential) -> str:
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

    @admin.display(description="history")
    def security_events(self, obj: Credential) -> str:
        events = list(obj.security_events.select_related("embed").order_by("-created_at", "-id"))
        if not events:
            return "No security event recorded."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{e.created_at:%Y-%m-%d %H:%M:%S}",
                    e.get_kind_display(),
                    e.actor_name or "—",
                    e.reason or "—",
                    e.detail or (e.target if e.embed_id else ""),
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="security-events"><thead><tr><th>When</th><th>What</th>'
            "<th>Who</th><th>Reason</th><th>Detail</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- permissions for the actions (admin.E129) ---

    def has_revoke_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        return request.user.has_perm("embeds.revoke_credential")

    def has_rotate_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        return request.user.has_perm("embeds.rotate_credential")

    # --- revoke / re-activate ---

    @admin.action(description="Revoke selected credentials…", permissions=["revoke"])
    def revoke_selected(
        self, request: HttpRequest, queryset: QuerySet[Credential]
    ) -> TemplateResponse | None:
        return self._revoke(request, queryset.filter(is_active=True), action="revoke_selected")

    @admin.action(description="Re-activate selected credentials…", permissions=["revoke"])
    def activate_selected(
        self, request: HttpRequest, queryset: QuerySet[Credential]
    ) -> TemplateResponse | None:
        return self._activate(request, queryset.filter(is_active=False), action="activate_selected")

    def _confirm_credentials(
        self,
        request: HttpRequest,
        queryset: QuerySet[Credential],
        confirmation: Confirmation[Credential],
        *,
        when_none: str,
    ) -> TemplateResponse | None:
        credentials = list(queryset)
        if not credentials:
            self.message_user(request, when_none, messages.WARNING)
            return None
        return self.confirm(request, credentials, confirmation, rows=impact_rows(credentials))

    def _revoke(
        self, request: HttpRequest, queryset: QuerySet[Credential], *, action: str = ""
    ) -> TemplateResponse | None:
        def apply(credential: Credential, data: FormData) -> None:
            services.revoke_credential(
                credential=credential, actor=request.user, reason=data["reason"]
            )

        confirmation = Confirmation(
            title="Revoke credentials",
            intro="Every embed below stops working on its next request, for every user "
            "listed. Nothing is deleted; you can re-activate later. If the secret may "
            "have leaked, also revoke these client credentials in Sigma (Administration "
            "> Developer Access): revoking here only stops this site signing with it, "
            "and whoever holds the secret can still sign tokens Sigma accepts.",
            template=CONFIRM_TEMPLATE,
            form_class=RevokeForm,
            action=action,
            apply=apply,
            log=lambda credential, data: f"Revoked. Reason: {data['reason']}",
            done=counted(
                ngettext_lazy(
                    "%(count)d credential was revoked; its embeds are refused from the next "
                    "request.",
                    "%(count)d credentials were revoked; their embeds are refused from the next "
                    "request.",
                    "count",
                )
            ),
        )
        return self._confirm_credentials(request, queryset, confirmation, when_none=MSG_NONE_ACTIVE)

    def _activate(
        self, request: HttpRequest, queryset: QuerySet[Credential], *, action: str = ""
    ) -> TemplateResponse | None:
        def apply(credential: Credential, data: FormData) -> None:
            services.activate_credential(credential=credential, actor=request.user)

        confirmation = Confirmation(
            title="Re-activate credentials",
            intro="Every embed below signs again from its next request, for every user listed.",
            template=CONFIRM_TEMPLATE,
            action=action,
            apply=apply,
            log=lambda credential, data: "Re-activated.",
            done=counted(
                ngettext_lazy(
                    "%(count)d credential was re-activated.",
                    "%(count)d credentials were re-activated.",
                    "count",
                )
            ),
        )
        return self._confirm_credentials(
            request, queryset, confirmation, when_none=MSG_NONE_REVOKED
        )

    # --- per-object pages: revoke, re-activate, replace secret ---

    def get_urls(self) -> list[URLPattern]:
        return [
            *admin_pages(
                self,
                ("<path:object_id>/revoke/", self.revoke_view, "embeds_credential_revoke"),
                ("<path:object_id>/activate/", self.activate_view, "embeds_credential_activate"),
                (
                    "<path:object_id>/replace-secret/",
                    self.replace_secret_view,
                    "embeds_credential_replace_secret",
                ),
            ),
            *super().get_urls(),
        ]

    def _object_or_404(self, request: HttpRequest, object_id: str, permission: str) -> Credential:
        if not getattr(self, f"has_{permission}_permission")(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def _back_to(self, credential: Credential) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:embeds_credential_change", args=[credential.pk]))

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        credential = self._object_or_404(request, object_id, "revoke")
        response = self._revoke(
            request, Credential.objects.filter(pk=credential.pk, is_active=True)
        )
        return response or self._back_to(credential)

    def activate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        credential = self._object_or_404(request, object_id, "revoke")
        response = self._activate(
            request, Credential.objects.filter(pk=credential.pk, is_active=False)
        )
        return response or self._back_to(credential)

    @sensitive_post_parameters_m
    def replace_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
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
            # AdminForm lays out any form's fields; django-stubs asks for a ModelForm.
            "adminform": helpers.AdminForm(
                form,  # type: ignore[arg-type]
                [(None, {"fields": ["secret1", "secret2"]})],
                {},
            ),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/embeds/credential/replace_secret.html", context)
