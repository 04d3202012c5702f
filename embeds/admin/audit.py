"""Read-only admin views of the audit trail (AccessRecord, EmbedErrorReport,
SecurityEvent).

The audit trail is evidence: nobody adds, edits or deletes a row through the
admin, not even a superuser. Rows leave only through ``manage.py
sigma_prune_audit`` (the retention setting). Records never hold a token or a
secret, so showing every field is safe.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from embeds.admin.activity import ActivityAdminMixin
from embeds.admin.common import ModelAdmin
from embeds.models import AccessRecord, EmbedErrorReport, SecurityEvent

_AuditT = TypeVar("_AuditT", bound=Model)


def trail_filters(
    *columns: str, related: tuple[str, ...]
) -> tuple[str | tuple[str, type[admin.FieldListFilter]], ...]:
    """A trail's filters: its own ``columns``, the day, and each ``related`` row
    that appears in it (never a list of every user or embed)."""
    return (
        *columns,
        ("created_at", admin.DateFieldListFilter),
        *((name, admin.RelatedOnlyFieldListFilter) for name in related),
    )


class ReadOnlyAuditAdmin(ModelAdmin[_AuditT], Generic[_AuditT]):
    """No add, change or delete for anyone; viewing needs the view permission."""

    actions = None  # no delete_selected, no bulk anything
    list_per_page = 100
    show_full_result_count = False  # a COUNT(*) per page view on a big audit table
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Security: a changed or deleted audit row would hide an incident.
    def has_change_permission(self, request: HttpRequest, obj: _AuditT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _AuditT | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: _AuditT | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


class AccessRecordAdmin(ActivityAdminMixin[AccessRecord], ReadOnlyAuditAdmin[AccessRecord]):
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
    list_filter = trail_filters(
        "outcome", "rule", "source", "is_preview", related=("user", "embed", "credential")
    )
    # "=jti" is an exact match: a jti from a Sigma-side incident finds its row via
    # the index. Names match by substring.
    search_fields = ("=jti", "username", "sigma_email", "embed_slug", "=client_id")
    search_help_text = "Exact jti or client ID; part of a username, Sigma email or embed slug."
    list_select_related = ("user", "embed", "credential")


class EmbedErrorReportAdmin(ReadOnlyAuditAdmin[EmbedErrorReport]):
    list_display = ("created_at", "code", "embed_slug", "username", "message")
    list_filter = trail_filters("code", related=("user", "embed"))
    search_fields = ("code", "username", "embed_slug", "message")
    list_select_related = ("user", "embed")


class SecurityEventAdmin(ReadOnlyAuditAdmin[SecurityEvent]):
    """Who switched what (credentials, embeds, users' kill switches), when and why."""

    list_display = ("created_at", "kind", "target", "actor_name", "reason", "detail")
    list_filter = trail_filters("kind", related=("credential", "embed"))
    search_fields = ("target", "actor_name", "reason", "detail")
    list_select_related = ("credential", "embed", "subject", "actor")
