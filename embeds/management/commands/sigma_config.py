"""Export the Sigma configuration to a JSON file, or import one (idempotently)."""

from __future__ import annotations

import json as jsonlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from embeds.config import ConfigInvalid, export_config, import_config, read_config
from embeds.management.commandline import EXIT_ERROR, SigmaCommand, add_json_flag, write_json


class Command(SigmaCommand):
    help = (
        "Export or import the declarative Sigma configuration: account types, user "
        "attributes, teams, credentials by reference (secrets come from environment "
        "variables, never from the file), embeds, user and group mappings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser("export", help="Write the configuration as JSON.")
        export.add_argument(
            "--output", help="File to write (replaced atomically); default: standard output."
        )
        imp = actions.add_parser(
            "import",
            help="Apply a configuration file: all of it in one transaction, or nothing.",
        )
        imp.add_argument("file", help="The JSON file to import.")
        imp.add_argument(
            "--dry-run", action="store_true", help="Validate and report; write nothing."
        )
        add_json_flag(imp, help_text="Print the report as JSON only.")
        imp.add_argument(
            "--allow-internal",
            action="store_true",
            help=(
                "Apply changes of who is an internal Sigma member (internal user or group "
                "mappings, an internal member's email): each signs a real Sigma session "
                "as that member. Without it such a file is refused."
            ),
        )

    def handle(self, *args: str, action: str, **options: Any) -> None:
        if action == "export":
            self.handle_export(options.get("output"))
        else:
            self.handle_import(
                options["file"], options["dry_run"], options["json"], options["allow_internal"]
            )

    def handle_export(self, output: str | None) -> None:
        # Names as written (Zoë, 東京), not \u escapes; the file is written as UTF-8.
        text = jsonlib.dumps(export_config(), indent=2, sort_keys=False, ensure_ascii=False)
        if output is None:
            self.stdout.write(text)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(
                f"Cannot write {output}: the folder {target.parent} does not exist.",
                returncode=EXIT_ERROR,
            )
        # Write beside the target and rename: a reader never sees half a file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            os.replace(temp, target)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise CommandError(
                f"Cannot write {output}: {exc.strerror}.", returncode=EXIT_ERROR
            ) from None
        self.stderr.write(f"Wrote the Sigma configuration to {output}.")

    def handle_import(self, file: str, dry_run: bool, json: bool, allow_internal: bool) -> None:
        try:
            text = read_config(file)
            report = import_config(text, dry_run=dry_run, allow_internal=allow_internal)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise CommandError(f"Cannot read {file}: {reason}.", returncode=EXIT_ERROR) from None
        except ConfigInvalid as exc:
            raise CommandError(
                f"{file} is not valid, nothing was written: {exc}", returncode=EXIT_ERROR
            ) from None
        if json:
            write_json(self.stdout, {"dry_run": dry_run, **report.as_dict()})
            return
        for action in ("created", "changed", "unchanged"):
            for label in getattr(report, action):
                self.stdout.write(f"{action:9} {label}")
        for note in report.notes:
            self.stdout.write(f"note      {note}")
        summary = (
            f"{len(report.created)} created, {len(report.changed)} changed, "
            f"{len(report.unchanged)} unchanged"
        )
        if dry_run:
            summary += " (dry run: nothing was written)"
        self.stdout.write(summary + ".")
