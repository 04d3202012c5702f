"""Shared pieces of the sigma_* management commands: lookups, secret input, output.

Every lookup raises ``CommandError`` that names what was not found and what to pass
instead; secrets are read from standard input or a no-echo prompt, never from argv.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import Refusal
from embeds.models import Credential, Embed

# Exit codes shared by the sigma_* commands (README, "Commands").
EXIT_ERROR = 1
EXIT_WARNINGS = 2

MSG_NOTHING_ON_STDIN = (
    "No embed secret was given: pipe it on standard input (for example "
    '`printf %s "$SECRET" | manage.py ...`) or run the command in a terminal to be '
    "prompted."
)
MSG_TYPED_VALUES_DIFFER = "The two secrets you typed differ; nothing was changed."
MSG_UNRECOGNIZED = (
    "unrecognized arguments (not repeated here, as they may hold a secret). Secrets "
    "are read from standard input, never from arguments; see --help."
)


class SigmaCommand(BaseCommand):
    """Base of the sigma_* commands: argparse never repeats unknown arguments.

    argparse's own "unrecognized arguments: --secret VALUE" would print a secret
    pasted on the command line back to the terminal, CI log or our caller.
    """

    # Repair and diagnosis tools: they must work while a system check fails
    # (e.g. a lost key), so the checks are not run before them.
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        original = parser.error

        def error(message: str):
            if message.startswith("unrecognized arguments"):
                message = MSG_UNRECOGNIZED
            return original(message)

        # Django's create_parser offers no parser class to override: shadow the bound
        # method on this instance (argparse calls self.error).
        setattr(parser, "error", error)  # noqa: B010
        return parser


def get_credential(name: str) -> Credential:
    try:
        return Credential.objects.get(name=name)
    except Credential.DoesNotExist:
        names = ", ".join(repr(n) for n in Credential.objects.values_list("name", flat=True))
        raise CommandError(
            f"No credential is named {name!r}. Known credentials: {names or 'none'} "
            "(see `manage.py sigma_credentials list`).",
            returncode=EXIT_ERROR,
        ) from None


def get_embed(slug: str) -> Embed:
    try:
        return Embed.objects.select_related("credential").get(slug=slug)
    except Embed.DoesNotExist:
        raise CommandError(
            f"No embed has the slug {slug!r}. Pass the slug shown in the admin's embed "
            "list (the last part of /embeds/<slug>/).",
            returncode=EXIT_ERROR,
        ) from None


def get_user(username: str):
    User = get_user_model()
    try:
        return User._default_manager.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(
            f"No user has the username {username!r}. Pass an existing host username.",
            returncode=EXIT_ERROR,
        ) from None


@sensitive_variables("first", "second", "value")
def read_secret(stdin: IO[str] | None, *, prompt: str = "Embed secret: ") -> str:
    """Read an embed secret from ``stdin``, or prompt without echo on a terminal.

    Piped input may end with one newline (``echo`` adds it), which is dropped; no
    other character is trimmed, so a secret with stray whitespace is refused by the
    validator instead of being silently changed.
    """
    stream = stdin if stdin is not None else sys.stdin
    if stream.isatty():
        first = getpass.getpass(prompt)
        second = getpass.getpass(prompt.rstrip(": ") + " (again): ")
        if first != second:
            raise CommandError(MSG_TYPED_VALUES_DIFFER, returncode=EXIT_ERROR)
        value = first
    else:
        value = stream.read()
        if value.endswith("\r\n"):
            value = value[:-2]
        elif value.endswith("\n"):
            value = value[:-1]
    if not value:
        raise CommandError(MSG_NOTHING_ON_STDIN, returncode=EXIT_ERROR)
    return value


def validation_message(error: ValidationError) -> str:
    """All messages of a ValidationError on one line, prefixed by field names."""
    if hasattr(error, "error_dict"):
        parts: list[str] = []
        for field, errors in error.message_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            parts.extend(f"{label}{message}" for message in errors)
        return " ".join(parts)
    return " ".join(error.messages)


def refusal_error(refusal: Refusal) -> CommandError:
    """The page's refusal, as a one-line CommandError (message, then admin detail)."""
    text = refusal.message if refusal.detail is None else f"{refusal.message} {refusal.detail}"
    return CommandError(f"Refused ({refusal.code}): {text}", returncode=EXIT_ERROR)


def write_json(stream, data: Any) -> None:
    stream.write(json.dumps(data, indent=2, sort_keys=True, cls=DjangoJSONEncoder))
