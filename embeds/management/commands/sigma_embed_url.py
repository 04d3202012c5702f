"""Print a freshly signed, single-use embed URL for a user, by the page's own rules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import Refusal
from embeds.issuing import issue_embed_url
from embeds.management.commandline import (
    EXIT_ERROR,
    SigmaCommand,
    add_json_flag,
    get_embed,
    get_user,
    refusal_error,
    write_json,
)
from embeds.models import AccessRecord
from embeds.protocol import constants

MIN_TTL = constants.MIN_TOKEN_TTL
MAX_TTL = constants.MAX_TOKEN_TTL


class Command(SigmaCommand):
    help = (
        "Sign a single-use Sigma embed URL for USERNAME on the embed SLUG, applying "
        "exactly the rules of the embed page (and recorded in the audit trail)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The host username to sign in.")
        parser.add_argument("--embed", required=True, help="The embed's slug.")
        parser.add_argument(
            "--ttl",
            type=int,
            help=(
                f"Token lifetime in seconds ({MIN_TTL} to {MAX_TTL}); default: the "
                "embed's own lifetime."
            ),
        )
        add_json_flag(
            parser, help_text="Print {url, expires_at, claims, header, jti} as JSON only."
        )

    @method_decorator(sensitive_variables("signed"))
    def handle(
        self, *args: str, user: str, embed: str, ttl: int | None, json: bool, **options: Any
    ) -> None:
        if ttl is not None and not MIN_TTL <= ttl <= MAX_TTL:
            raise CommandError(
                f"--ttl must be between {MIN_TTL} and {MAX_TTL} seconds (Sigma's limit is "
                "30 days).",
                returncode=EXIT_ERROR,
            )
        host_user = get_user(user)
        target = get_embed(embed)
        try:
            signed = issue_embed_url(
                user=host_user,
                embed=target,
                source=AccessRecord.Source.COMMAND,
                ttl=ttl,
            )
        except Refusal as refusal:
            raise refusal_error(refusal) from None
        if json:
            write_json(
                self.stdout,
                {
                    "url": signed.url,
                    "expires_at": signed.expires_at.isoformat(),
                    "claims": signed.claims,
                    "header": signed.header,
                    "jti": signed.jti,
                },
            )
        else:
            self.stdout.write(signed.url)
