"""Delete audit rows (issued/refused records, iframe error reports) past retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from embeds.conf import sigma_settings
from embeds.models import AccessRecord, EmbedErrorReport

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Delete access records and embed error reports older than the retention "
        "period (SIGMA_AUDIT_RETENTION_DAYS, or --days). Shows what would go; "
        "deletes only with --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days instead of SIGMA_AUDIT_RETENTION_DAYS (at least 1).",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Delete; without it nothing is deleted."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow --days below SIGMA_AUDIT_RETENTION_DAYS (deletes what the "
            "retention setting promises to keep).",
        )

    def handle(
        self,
        *args: str,
        days: int | None = None,
        yes: bool = False,
        force: bool = False,
        **options: Any,
    ) -> None:
        retention = sigma_settings.AUDIT_RETENTION_DAYS if days is None else days
        if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
            source = "--days" if days is not None else "SIGMA_AUDIT_RETENTION_DAYS"
            raise CommandError(
                f"{source} must be a whole number of days, at least 1.", returncode=2
            )
        configured = sigma_settings.AUDIT_RETENTION_DAYS
        # Security: the audit trail is evidence; cutting it shorter than the
        # documented retention must be a deliberate act, not a typo.
        if days is not None and retention < configured and not force:
            raise CommandError(
                f"--days {retention} is below SIGMA_AUDIT_RETENTION_DAYS ({configured}): "
                "it would delete records the retention setting keeps. Add --force to do "
                "it anyway.",
                returncode=2,
            )
        cutoff = timezone.now() - timedelta(days=retention)
        records = AccessRecord.objects.filter(created_at__lt=cutoff)
        reports = EmbedErrorReport.objects.filter(created_at__lt=cutoff)
        stamp = cutoff.strftime("%Y-%m-%d %H:%M:%S %Z")
        if not yes:
            self.stdout.write(
                f"Would delete {records.count()} access record(s) and {reports.count()} "
                f"error report(s) older than {stamp} ({retention} days). "
                "Run again with --yes to delete them."
            )
            return
        with transaction.atomic():
            deleted_records, _ = records.delete()
            deleted_reports, _ = reports.delete()
        logger.info(
            "Pruned audit trail: %d access records, %d error reports older than %s",
            deleted_records,
            deleted_reports,
            stamp,
        )
        self.stdout.write(
            f"Deleted {deleted_records} access record(s) and {deleted_reports} error "
            f"report(s) older than {stamp} ({retention} days)."
        )
