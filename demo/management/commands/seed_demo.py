"""Create (idempotently) the demo data the README walks through.

Part of the host project (the ``demo`` app), never of the ``django-sigma-embed``
wheel: it creates users with a published password.
"""

from __future__ import annotations

import os
import secrets
from io import StringIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.personas import DEMO_PASSWORD, PEOPLE
from embeds import services
from embeds.conf import sigma_settings
from embeds.exceptions import CredentialBroken
from embeds.models import (
    AccountType,
    Credential,
    Embed,
    SigmaProfile,
    SigmaProfileAttribute,
    Team,
    UserAttribute,
)
from embeds.validators import parse_sigma_url

DEMO_ORG = "demo-org"
DEMO_CREDENTIAL = "Demo (local emulator)"
DEMO_EMBEDS = (
    ("sales-overview", "Sales overview", "/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA"),
    (
        "revenue-by-region",
        "Revenue by region (one element)",
        "/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA/element/kx7Qe_2-Lm",
    ),
)


class Command(BaseCommand):
    help = (
        "Create the demo credential (pointing at the local Sigma emulator), teams, "
        "two embeds and the users alice, elena, bob and admin (password 'demo'). Safe to "
        "run again. Refused unless DEBUG is on or --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (creates users with a known password).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with the password 'demo'; it runs only with "
                "DEBUG on, or with --force.",
                returncode=2,
            )
        # The host's setting (hostsite/settings.py), not the app's: the wheel knows no
        # emulator.
        origin = settings.SIGMA_EMULATOR_ORIGIN
        if origin not in sigma_settings.ALLOWED_ORIGINS:
            raise CommandError(
                f"The emulator origin {origin} (SIGMA_EMULATOR_ORIGIN) is not in "
                "SIGMA_ALLOWED_ORIGINS; add it there to use the demo embeds."
            )
        emulator_output = StringIO()
        with transaction.atomic():
            credential = self._credential()
            if apps.is_installed("sigma_emulator"):
                # The emulated organization's side of the same credentials (as if made
                # on its Developer Access page), its teams and the shared workbook.
                # The secret travels over stdin: never argv, never output.
                call_command(
                    "sigma_emulator_seed",
                    "--org",
                    DEMO_ORG,
                    "--client-id",
                    credential.client_id,
                    "--owner-email",
                    credential.owner_email,
                    "--secret-stdin",
                    stdin=StringIO(credential.signing_secret()),
                    stdout=emulator_output,
                )
            sales, _ = Team.objects.get_or_create(
                name="Sales", defaults={"description": "Demo team"}
            )
            Team.objects.get_or_create(name="Marketing", defaults={"description": "Demo team"})
            view, _ = AccountType.objects.get_or_create(name="View")
            AccountType.objects.get_or_create(name="Build")
            region, _ = UserAttribute.objects.get_or_create(
                name="region", defaults={"description": "Row-level security: sales region"}
            )
            for slug, title, path in DEMO_EMBEDS:
                url = f"{origin}/{DEMO_ORG}{path}"
                try:
                    parse_sigma_url(url)
                except ValidationError as exc:
                    raise CommandError(f"Demo embed URL is not valid: {exc.messages[0]}") from None
                embed, _ = Embed.objects.update_or_create(
                    slug=slug,
                    defaults={"title": title, "url": url, "credential": credential},
                )
                embed.teams.add(sales)
            self._users(sales=sales, view=view, region=region)
            # Demo rows written directly (the host's own seeding): tell the issuing
            # path's cache, as the app's services do for their writes.
            services.invalidate_issuing_cache()
        self.stdout.write(
            f"Demo data ready: credential {credential.name!r} (client ID "
            f"{credential.client_id}, fingerprint {credential.secret_fingerprint}).\n"
            "Sign in as alice / demo (team Sales, View, region=West), elena / demo "
            "(the same, region=East), bob / demo (no team) or admin / demo (admin site)."
        )
        if emulator_output.getvalue():
            self.stdout.write(emulator_output.getvalue().rstrip("\n"))

    def _credential(self) -> Credential:
        client_id = os.environ.get("SIGMA_DEMO_CLIENT_ID") or None
        secret = os.environ.get("SIGMA_DEMO_SECRET") or None
        credential = Credential.objects.filter(name=DEMO_CREDENTIAL).first()
        if credential is None:
            return services.create_credential(
                name=DEMO_CREDENTIAL,
                client_id=client_id or f"demo-{secrets.token_hex(8)}",
                secret=secret or secrets.token_urlsafe(48),
                description="Signs for the local Sigma emulator. Not a real Sigma credential.",
                owner_email="admin@example.com",
                owner_is_admin=True,
                # The emulator grants both, as Sigma can: sigma_check --remote works
                # on the demo out of the box.
                api_privilege=True,
            )
        if client_id and credential.client_id != client_id:
            credential.client_id = client_id
            credential.save(update_fields=["client_id", "updated_at"])
        if secret:
            try:
                current = credential.signing_secret()
            except CredentialBroken:  # undecryptable with today's keys: replace it
                current = None
            if current != secret:
                credential = services.replace_credential_secret(
                    credential=credential, secret=secret
                )
        return credential

    def _users(self, *, sales: Team, view: AccountType, region: UserAttribute) -> None:
        User = get_user_model()
        for username, email, first, last, is_admin in PEOPLE:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": email, "first_name": first, "last_name": last},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = is_admin
            user.save()
        # alice and elena: the same team and embeds, different regions, so the
        # emulator's row-level security shows each their own rows.
        for username, region_value in (("alice", "West"), ("elena", "East")):
            profile, _ = SigmaProfile.objects.get_or_create(
                user=User.objects.get(username=username)
            )
            profile.account_type = view
            profile.save()
            profile.teams.add(sales)
            SigmaProfileAttribute.objects.update_or_create(
                profile=profile, attribute=region, defaults={"value": region_value}
            )
        bob = User.objects.get(username="bob")
        bob_profile, _ = SigmaProfile.objects.get_or_create(user=bob)
        bob_profile.account_type = view
        bob_profile.save()
