"""List (and, confirmed, deactivate) Sigma embed users no active host user maps to."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandError, CommandParser

from embeds.management.commandline import (
    EXIT_ERROR,
    SigmaCommand,
    add_json_flag,
    get_user,
    write_json,
)
from embeds.remote.client import SigmaAPIError
from embeds.remote.usage import api_client, api_credential
from embeds.services.sigma_members import (
    StaleEmbedUser,
    deactivate_embed_users,
    stale_embed_users,
)

CONFIRM_PROMPT = "Deactivate these {count} embed user(s) in Sigma? Type 'yes' to confirm: "
MSG_NOTHING_CHANGED = "Nothing changed (not confirmed)."
MSG_NONE = "No stale embed users: every embed user in Sigma maps to an active host user."


class Command(SigmaCommand):
    stealth_options = ("stdin",)  # the confirmation, for tests (as createsuperuser)
    help = (
        "List the Sigma organization's embed users that no active host user maps to any "
        "more (deactivated, deleted, or the email changed). Read-only unless "
        "--deactivate is given; then it asks for confirmation (or --yes) and deactivates "
        "each through Sigma's REST API (DELETE /v2/members/{memberId}), recording a "
        "security event per member."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_json_flag(parser)
        parser.add_argument(
            "--credential", help="The credential with the REST API privilege to use, by name."
        )
        parser.add_argument(
            "--deactivate",
            action="store_true",
            help="Deactivate the listed embed users in Sigma (asks for confirmation).",
        )
        parser.add_argument(
            "--yes", action="store_true", help="With --deactivate: do not ask, deactivate."
        )
        parser.add_argument("--reason", default="", help="Why (kept in the security events).")
        parser.add_argument("--actor", help="Username recorded as the one who deactivated.")

    def handle(self, *args: str, **options: Any) -> None:
        stdin = options.get("stdin") or sys.stdin
        actor = get_user(options["actor"]) if options.get("actor") else None
        try:
            credential = api_credential(options.get("credential"))
            with api_client(credential) as client:
                stale = stale_embed_users(client)
                if options["json"] and not options["deactivate"]:
                    write_json(self.stdout, {"stale": [m.as_dict() for m in stale]})
                    return
                self.show(stale, would=options["deactivate"])
                if not options["deactivate"] or not stale:
                    return
                if not options["yes"]:
                    self.stdout.write(CONFIRM_PROMPT.format(count=len(stale)), ending="")
                    self.stdout.flush()
                    if stdin.readline().strip().lower() != "yes":
                        self.stdout.write(MSG_NOTHING_CHANGED)
                        return
                done = deactivate_embed_users(
                    client=client,
                    members=stale,
                    credential=credential,
                    actor=actor,
                    reason=options["reason"],
                )
        except SigmaAPIError as exc:
            raise CommandError(f"Sigma could not answer: {exc}", returncode=EXIT_ERROR) from None
        for member in done:
            self.stdout.write(f"Deactivated {member.email} ({member.member_id}).")
        self.stdout.write(f"{len(done)} embed user(s) deactivated in Sigma.")

    def show(self, stale: Sequence[StaleEmbedUser], *, would: bool) -> None:
        if not stale:
            self.stdout.write(MSG_NONE)
            return
        verb = "Would deactivate" if would else "Stale"
        for member in stale:
            inactive = " [inactive in Sigma]" if member.inactive else ""
            self.stdout.write(
                f"{verb}: {member.email} ({member.member_id}): {member.reason}{inactive}"
            )
