"""Read-only admin views of the audit trail (AccessRecord, EmbedErrorReport,
SecurityEvent).

The audit trail is evidence: nobody adds, edits or deletes a row through the
admin, not even a superuser. Rows leave only through ``manage.py
sigma_prune_audit`` (the retention setting). Records never hold a token or a
secret, so showing every field is safe.
"""

from __future__ import annotations

from django.contrib import admin

from embeds.admin.activity import ActivityAdminMixin


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone; viewing needs the view permission."""

    actions = None  # no delete_selected, no bulk anything
    list_per_page = 100
    show_full_result_count = False  # a COUNT(*) per page view on a big audit table

    def has_add_permission(self, request) -> bool:
        return False

    # Security: a changed or deleted audit row would hide an incident.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class AccessRecordAdmin(ActivityAdminMixin, ReadOnlyAuditAdmin):
    list_display = (
        "created_at",
        "outcome",
        "rule",
        "source",
        "is_preview",
        "username",
        "sigma_email",
        "embed_slug",
        "client_id",
        "jti",
        "client_ip",
    )
    list_filter = (
        "outcome",
        "rule",
        "source",
        "is_preview",
        ("created_at", admin.DateFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
        ("embed", admin.RelatedOnlyFieldListFilter),
        ("credential", admin.RelatedOnlyFieldListFilter),
    )
    # "=jti" is an exact match: a jti from a Sigma-side incident finds its row via
    # the index. Names match by substring.
    search_fields = ("=jti", "username", "sigma_email", "embed_slug", "=client_id")
    search_help_text = "Exact jti or client ID; part of a username, Sigma email or embed slug."
    date_hierarchy = "created_at"
    list_select_related = ("user", "embed", "credential")


class EmbedErrorReportAdmin(ReadOnlyAuditAdmin):
    list_display = ("created_at", "code", "embed_slug", "username", "message")
    list_filter = (
        "code",
        ("created_at", admin.DateFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
        ("embed", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("code", "username", "embed_slug", "message")
    date_hierarchy = "created_at"
    list_select_related = ("user", "embed")


class SecurityEventAdmin(ReadOnlyAuditAdmin):
    """Who switched what (credentials, embeds, users' kill switches), when and why."""

    list_display = ("created_at", "kind", "target", "actor_name", "reason", "detail")
    list_filter = (
        "kind",
        ("created_at", admin.DateFieldListFilter),
        ("credential", admin.RelatedOnlyFieldListFilter),
        ("embed", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("target", "actor_name", "reason", "detail")
    date_hierarchy = "created_at"
    list_select_related = ("credential", "embed", "subject", "actor")
