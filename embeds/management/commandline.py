"""Shared pieces of the sigma_* management commands: lookups, secret input, output.

Every lookup raises ``CommandError`` that names what was not found and what to pass
instead; secrets are read from standard input or a no-echo prompt, never from argv.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.views.decorators.debug import sensitive_variables

from embeds.exceptions import Refusal
from embeds.models import Credential, Embed

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import User

_RowT = TypeVar("_RowT", bound=Model)

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

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        original = parser.error

        def error(message: str) -> NoReturn:
            if message.startswith("unrecognized arguments"):
                message = MSG_UNRECOGNIZED
            original(message)
            # argparse's error exits; django-stubs types it as returning.
            raise AssertionError("unreachable")  # pragma: no cover

        # Django's create_parser offers no parser class to override: shadow the bound
        # method on this instance (argparse calls self.error).
        setattr(parser, "error", error)  # noqa: B010
        return parser


def _one(rows: QuerySet[_RowT], problem: Callable[[], str], **lookup: object) -> _RowT:
    """The row of ``rows`` that ``lookup`` names, else a ``CommandError`` that says
    ``problem()`` (what was not found, what to pass instead)."""
    try:
        return rows.get(**lookup)
    except ObjectDoesNotExist:
        raise CommandError(problem(), returncode=EXIT_ERROR) from None


def get_credential(name: str) -> Credential:
    def problem() -> str:
        names = ", ".join(repr(n) for n in Credential.objects.values_list("name", flat=True))
        return (
            f"No credential is named {name!r}. Known credentials: {names or 'none'} "
            "(see `manage.py sigma_credentials list`)."
        )

    return _one(Credential.objects.all(), problem, name=name)


def get_embed(slug: str) -> Embed:
    return _one(
        Embed.objects.select_related("credential"),
        lambda: (
            f"No embed has the slug {slug!r}. Pass the slug shown in the admin's embed "
            "list (the last part of /embeds/<slug>/)."
        ),
        slug=slug,
    )


def get_user(username: str) -> User:
    users = get_user_model()._default_manager.all()
    return _one(
        users,
        lambda: f"No user has the username {username!r}. Pass an existing host username.",
        **{users.model.USERNAME_FIELD: username},
    )


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


def add_json_flag(parser: CommandParser, *, help_text: str = "Print JSON only.") -> None:
    """``--json``: the command prints only JSON on standard output (scripts read it)."""
    parser.add_argument("--json", action="store_true", help=help_text)


@contextmanager
def validation_errors(failed: str) -> Iterator[None]:
    """A service's ``ValidationError`` as the command's error: ``failed`` (what did
    not happen), then every message on one line."""
    try:
        yield
    except ValidationError as exc:
        raise CommandError(f"{failed}: {validation_message(exc)}", returncode=EXIT_ERROR) from None


def write_json(stream: OutputWrapper, data: object) -> None:
    stream.write(json.dumps(data, indent=2, sort_keys=True, cls=DjangoJSONEncoder))
