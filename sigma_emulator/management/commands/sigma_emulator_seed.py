"""``manage.py sigma_emulator_seed``: fill (or reset) the emulated Sigma organization."""

from __future__ import annotations

import sys
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from sigma_emulator.models import Credential, Member, Organization, Team
from sigma_emulator.sample import ORG_ADMIN, seed_organization
from sigma_emulator.services import register_credential

# Messages, not secrets (ruff S105 reads "SECRET" in the names).
MSG_NO_SECRET = "--secret-stdin was given but stdin was empty; pipe the secret in."  # noqa: S105
MSG_SECRET_NEEDS_ID = "--secret-stdin needs --client-id to name the credentials."  # noqa: S105


class Command(BaseCommand):
    help = (
        "Create the emulated Sigma organization: account types, members, teams Sales "
        "and Marketing, the region user attribute, a connection, a data model and the "
        "Sales Overview workbook shared with Sales. Safe to run again. With "
        "--client-id and --secret-stdin, also register client credentials whose secret "
        "is read from stdin (never from argv, never printed)."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default="demo-org", help="Organization slug (demo-org).")
        parser.add_argument("--client-id", help="Register credentials with this client ID.")
        parser.add_argument(
            "--secret-stdin",
            action="store_true",
            help="Read the credentials' secret from stdin.",
        )
        parser.add_argument(
            "--owner-email",
            default=ORG_ADMIN,
            help=f"Owner of the registered credentials (default {ORG_ADMIN}, an Admin).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete everything in the emulated organization first (credentials too).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client_id = options.get("client_id")
        secret = None
        if options["secret_stdin"]:
            if not client_id:
                raise CommandError(MSG_SECRET_NEEDS_ID, returncode=2)
            stdin = options.get("stdin") or sys.stdin
            # Only the trailing newline a shell adds is dropped; the secret is not trimmed.
            secret = stdin.read().rstrip("\r\n")
            if not secret:
                raise CommandError(MSG_NO_SECRET, returncode=2)
        with transaction.atomic():
            if options["reset"]:
                self._reset()
            workbook = seed_organization(slug=options["org"])
            credential = None
            if client_id and secret:
                credential = register_credential(
                    client_id=client_id,
                    secret=secret,
                    name="Demo host",
                    owner_email=options["owner_email"],
                )
        organization = Organization.current()
        self.stdout.write(
            f"Emulated organization {organization}: {Member.objects.count()} members, "
            f"teams {', '.join(Team.objects.values_list('name', flat=True))}; workbook "
            f"{workbook.name!r} ({workbook.url_id}) shared with "
            f"{', '.join(workbook.shared_with.values_list('name', flat=True))}."
        )
        if credential is not None:
            self.stdout.write(
                f"Credentials {credential.client_id} registered (Embedding, REST API), "
                f"owner {credential.owner.email}."
            )
        elif client_id:
            known = Credential.objects.filter(client_id=client_id).exists()
            self.stdout.write(
                f"Credentials {client_id} {'unchanged' if known else 'not registered'}: "
                "pass --secret-stdin to register them."
            )

    def _reset(self) -> None:
        counts = {}
        # Children first: workbooks protect members, members protect account types.
        for name in (
            "ApiToken",
            "ApiFault",
            "SeenToken",
            "Control",
            "Element",
            "Page",
            "Workbook",
            "DataModel",
            "Credential",
            "Team",
            "Member",
            "AccountType",
            "UserAttribute",
            "Connection",
            "Organization",
        ):
            deleted, _ = apps.get_model("sigma_emulator", name).objects.all().delete()
            counts[name] = deleted
        summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        self.stdout.write(f"Reset the emulated organization: deleted {summary or 'nothing'}.")
