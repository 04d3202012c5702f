"""Admin for credentials, registries and embeds."""

from . import audit_admin  # noqa: F401  (registers the audit trail's admin)
