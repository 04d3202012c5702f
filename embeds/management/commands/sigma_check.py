"""The doctor: run every Sigma check, database included, and exit 0, 1 or 2."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.management.base import CommandError, CommandParser

from embeds.checks.config import sigma_checks
from embeds.management.commandline import (
    EXIT_ERROR,
    EXIT_WARNINGS,
    SigmaCommand,
    add_json_flag,
    write_json,
)
from embeds.remote.client import SigmaAPIError
from embeds.remote.findings import ERROR
from embeds.remote.usage import api_client, api_credential, check_against_sigma


class Command(SigmaCommand):
    help = (
        "Check the Sigma configuration: credentials decrypt with the current keys, "
        "embeds are valid and usable, teams have members, settings are sane. One line "
        "per finding. With --remote, also ask Sigma's REST API whether every team, "
        "account type, attribute, content path, credential owner and email matches the "
        "organization. Exit 0 clean, 1 on errors, 2 on warnings only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_json_flag(parser)
        parser.add_argument(
            "--database", default="default", help="Database alias to check (default: default)."
        )
        parser.add_argument(
            "--remote",
            action="store_true",
            help="Also check the configuration against Sigma itself (REST API).",
        )
        parser.add_argument(
            "--credential",
            help="With --remote: the credential with the REST API privilege to use, by name.",
        )

    def handle(
        self,
        *args: str,
        json: bool = False,
        database: str = "default",
        remote: bool = False,
        credential: str | None = None,
        **options: Any,
    ) -> None:
        findings = self.findings(database=database, remote=remote, credential=credential)
        errors = [m for m in findings if m.level >= checks.ERROR]
        warnings = [m for m in findings if checks.WARNING <= m.level < checks.ERROR]
        if json:
            self.write_json_report(errors, warnings)
        else:
            self.write_text_report(errors, warnings)
        if errors:
            raise CommandError(
                f"{len(errors)} error(s), {len(warnings)} warning(s).", returncode=EXIT_ERROR
            )
        if warnings:
            raise CommandError(f"{len(warnings)} warning(s).", returncode=EXIT_WARNINGS)

    def findings(
        self, *, database: str, remote: bool, credential: str | None
    ) -> list[checks.CheckMessage]:
        """Every finding not silenced, errors first, then warnings, each by id.

        A stable order for scripts and diffs. ``remote`` adds the REST API's.
        """
        silenced = set(settings.SILENCED_SYSTEM_CHECKS)
        findings = [
            message
            for check in sigma_checks()
            for message in check(app_configs=None, databases=[database])
            if message.id not in silenced
        ]
        if remote:
            findings += [m for m in self.remote_findings(credential) if m.id not in silenced]
        findings.sort(key=lambda m: (-m.level, m.id or ""))
        return findings

    def write_json_report(
        self, errors: list[checks.CheckMessage], warnings: list[checks.CheckMessage]
    ) -> None:
        write_json(
            self.stdout,
            {
                "ok": not (errors or warnings),
                "errors": len(errors),
                "warnings": len(warnings),
                "findings": [
                    {
                        "id": m.id,
                        "level": _level(m).lower(),
                        "message": m.msg,
                        "hint": m.hint or "",
                    }
                    for m in errors + warnings
                ],
            },
        )

    def write_text_report(
        self, errors: list[checks.CheckMessage], warnings: list[checks.CheckMessage]
    ) -> None:
        for m in errors + warnings:
            hint = f" Fix: {m.hint}" if m.hint else ""
            self.stdout.write(f"{_level(m)} {m.id}: {m.msg}{hint}")
        if not (errors or warnings):
            self.stdout.write("Sigma configuration OK: no findings.")

    @staticmethod
    def remote_findings(credential_name: str | None) -> list[checks.CheckMessage]:
        """The REST API findings as check messages; Sigma unreachable is a CommandError."""
        try:
            with api_client(api_credential(credential_name)) as client:
                found = check_against_sigma(client=client)
        except SigmaAPIError as exc:
            raise CommandError(
                f"Could not check against Sigma: {exc}", returncode=EXIT_ERROR
            ) from None
        return [
            (checks.Error if f.level == ERROR else checks.Warning)(f.message, hint=f.hint, id=f.id)
            for f in found
        ]


def _level(message: checks.CheckMessage) -> str:
    return "ERROR" if message.level >= checks.ERROR else "WARNING"
