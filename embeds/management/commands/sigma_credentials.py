"""Create, list, revoke, re-activate and rotate Sigma embed credentials."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Count
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from embeds import services
from embeds.management.commandline import (
    EXIT_ERROR,
    SigmaCommand,
    add_json_flag,
    get_credential,
    get_user,
    read_secret,
    validation_errors,
    write_json,
)
from embeds.models import Credential


class Command(SigmaCommand):
    help = (
        "Manage Sigma embed credentials. Secrets are read from standard input (or a "
        "prompt without echo in a terminal), never from an argument, and never printed."
    )
    # Tests pass a fake standard input, as Django's createsuperuser does.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser(
            "create",
            help="Create credentials; the secret comes from standard input.",
        )
        create.add_argument("--name", required=True, help="A unique name for the credentials.")
        create.add_argument(
            "--client-id", required=True, help="The client ID Sigma showed with the secret."
        )
        create.add_argument("--description", default="")
        create.add_argument(
            "--owner-email", default="", help="Email of the Sigma user who owns them."
        )
        create.add_argument(
            "--owner-admin",
            action="store_true",
            help="The owner is a Sigma Admin (only then may they sign in other users).",
        )
        create.add_argument(
            "--api",
            action="store_true",
            help="Sigma also granted the REST API privilege (sigma_check --remote uses it).",
        )
        create.add_argument(
            "--api-only",
            action="store_true",
            help="REST API privilege only: never used to sign embed URLs.",
        )

        listing = actions.add_parser("list", help="List credentials (never the secret).")
        add_json_flag(listing)

        revoke = actions.add_parser(
            "revoke", help="Revoke credentials: every embed using them is refused."
        )
        revoke.add_argument("name")
        revoke.add_argument("--reason", required=True, help="Why (kept in the audit fields).")
        revoke.add_argument(
            "--yes", action="store_true", help="Confirm; without it nothing is changed."
        )
        revoke.add_argument("--actor", help="Username recorded as the one who revoked.")

        activate = actions.add_parser("activate", help="Re-activate revoked credentials.")
        activate.add_argument("name")
        activate.add_argument("--actor", help="Username recorded in the log.")

        rotate = actions.add_parser(
            "rotate",
            help="Replace the secret with a new one from standard input; the old one is gone.",
        )
        rotate.add_argument("name")
        rotate.add_argument("--actor", help="Username recorded in the log.")

    def handle(self, *args: str, action: str, **options: Any) -> None:
        getattr(self, f"handle_{action}")(**options)

    # --- actions ------------------------------------------------------------

    @method_decorator(sensitive_variables("secret"))
    def handle_create(
        self,
        *,
        name: str,
        client_id: str,
        description: str,
        owner_email: str,
        owner_admin: bool,
        api: bool,
        api_only: bool,
        **options: Any,
    ) -> None:
        # Names and client IDs are checked before the secret is asked for.
        if Credential.objects.filter(name=name).exists():
            raise CommandError(
                f"A credential named {name!r} already exists; choose another --name.",
                returncode=EXIT_ERROR,
            )
        existing = Credential.objects.filter(client_id=client_id).first()
        if existing is not None:
            raise CommandError(
                f"The client ID {client_id!r} already belongs to credential "
                f"{existing.name!r}; each client ID is stored once.",
                returncode=EXIT_ERROR,
            )
        secret = read_secret(options.get("stdin"))
        with validation_errors("Credential not created"):
            credential = services.create_credential(
                name=name,
                client_id=client_id,
                secret=secret,
                description=description,
                owner_email=owner_email,
                owner_is_admin=owner_admin,
                embed_privilege=not api_only,
                api_privilege=api or api_only,
            )
        self.stdout.write(
            f"Created credential {credential.name!r} (client ID {credential.client_id}, "
            f"fingerprint {credential.secret_fingerprint})."
        )

    def handle_list(self, *, json: bool = False, **options: Any) -> None:
        credentials = Credential.objects.annotate(embed_count=Count("embeds")).order_by("name")
        rows = [
            {
                "name": c.name,
                "client_id": c.client_id,
                "fingerprint": c.secret_fingerprint,
                "active": c.is_active,
                "owner_email": c.owner_email,
                "owner_is_admin": c.owner_is_admin,
                "embed_privilege": c.embed_privilege,
                "api_privilege": c.api_privilege,
                "embeds": c.embed_count,
                "secret_rotated_at": c.secret_rotated_at,
                "last_used_at": c.last_used_at,
                "revoked_at": c.revoked_at,
                "revoked_reason": c.revoked_reason,
            }
            for c in credentials
        ]
        if json:
            write_json(self.stdout, rows)
            return
        if not rows:
            self.stdout.write("No credentials. Create one with `sigma_credentials create`.")
            return
        for row in rows:
            status = "active" if row["active"] else f"REVOKED ({row['revoked_reason']})"
            owner = row["owner_email"] or "no owner"
            if row["owner_is_admin"]:
                owner += ", Sigma Admin"
            # Plain embed credentials (the usual case) keep the short line.
            privileges = ""
            if row["api_privilege"] or not row["embed_privilege"]:
                held = [("embed", row["embed_privilege"]), ("api", row["api_privilege"])]
                privileges = "  privileges " + "+".join(kind for kind, has in held if has)
            self.stdout.write(
                f"{row['name']}  client ID {row['client_id']}  fingerprint "
                f"{row['fingerprint']}  {status}  owner {owner}  embeds {row['embeds']}"
                f"{privileges}"
            )

    def handle_revoke(
        self, *, name: str, reason: str, yes: bool, actor: str | None = None, **options: Any
    ) -> None:
        credential = get_credential(name)
        actor_user = get_user(actor) if actor else None
        if not reason.strip():
            raise CommandError(
                "--reason is empty; say why the credentials are revoked.", returncode=EXIT_ERROR
            )
        if not credential.is_active:
            # Already in the asked-for state: the first revocation's facts are kept.
            self.stdout.write(
                f"Credential {credential.name!r} is already revoked; nothing changed."
            )
            return
        slugs = list(credential.embeds.order_by("slug").values_list("slug", flat=True))
        affected = ", ".join(slugs) if slugs else "none"
        if not yes:
            raise CommandError(
                f"Revoking {credential.name!r} switches off {len(slugs)} embed(s): "
                f"{affected}. Nothing changed; run again with --yes to revoke.",
                returncode=EXIT_ERROR,
            )
        services.revoke_credential(credential=credential, actor=actor_user, reason=reason)
        self.stdout.write(
            f"Revoked credential {credential.name!r}; embeds now refused: {affected}."
        )

    def handle_activate(self, *, name: str, actor: str | None = None, **options: Any) -> None:
        credential = get_credential(name)
        actor_user = get_user(actor) if actor else None
        if credential.is_active:
            self.stdout.write(f"Credential {credential.name!r} is already active; nothing changed.")
            return
        services.activate_credential(credential=credential, actor=actor_user)
        self.stdout.write(f"Re-activated credential {credential.name!r}.")

    @method_decorator(sensitive_variables("secret"))
    def handle_rotate(self, *, name: str, actor: str | None = None, **options: Any) -> None:
        credential = get_credential(name)
        actor_user = get_user(actor) if actor else None
        old = credential.secret_fingerprint
        secret = read_secret(options.get("stdin"), prompt="New embed secret: ")
        with validation_errors("Secret not replaced"):
            credential = services.replace_credential_secret(
                credential=credential, secret=secret, actor=actor_user
            )
        self.stdout.write(
            f"Replaced the secret of {credential.name!r} (fingerprint {old} -> "
            f"{credential.secret_fingerprint}); the old secret is no longer stored."
        )
