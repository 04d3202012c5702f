"""Re-encrypt every stored embed secret with the first FIELD_ENCRYPTION_KEY key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from embeds.encryption import ReencryptionFailed
from embeds.management.commandline import EXIT_ERROR, SigmaCommand, add_json_flag, write_json
from embeds.services import reencrypt_secrets


class Command(SigmaCommand):
    help = (
        "After a new key is put first in FIELD_ENCRYPTION_KEY, re-encrypt every stored "
        "embed secret with it and verify each. Safe to run twice. Afterwards the old "
        "key can be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_json_flag(parser)

    def handle(self, *args: str, json: bool = False, **options: Any) -> None:
        try:
            result = reencrypt_secrets()
        except ReencryptionFailed as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from None
        if json:
            write_json(
                self.stdout,
                {
                    "reencrypted": result.reencrypted,
                    "already_current": result.already_current,
                    "unreadable": result.unreadable,
                },
            )
        else:
            self.stdout.write(
                f"Re-encrypted {len(result.reencrypted)} secret(s) with the first key; "
                f"{len(result.already_current)} already used it."
            )
        if result.unreadable:
            names = ", ".join(repr(n) for n in result.unreadable)
            raise CommandError(
                f"{len(result.unreadable)} secret(s) could not be decrypted with any key in "
                f"FIELD_ENCRYPTION_KEY and were left as they are: {names}. Add back the key "
                "that encrypted them, or enter them again with `sigma_credentials rotate`; "
                "do not remove old keys yet.",
                returncode=EXIT_ERROR,
            )
