"""Read-only admin views of the audit trail (AccessRecord, EmbedErrorReport)."""
