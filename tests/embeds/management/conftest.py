"""Helpers for command tests: run a command and capture both outputs."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@dataclass
class Result:
    stdout: str
    stderr: str
    returncode: int
    error: str = ""

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr + self.error


class FakeStdin(io.StringIO):
    """Piped standard input (not a terminal)."""

    def isatty(self) -> bool:
        return False


class FakeTTY(io.StringIO):
    """A terminal: the command must prompt with getpass instead of reading it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def run():
    """run("sigma_credentials", "list", stdin="...") -> Result; never raises CommandError."""

    def _run(*args, stdin: str | io.StringIO | None = None, **options) -> Result:
        out, err = io.StringIO(), io.StringIO()
        if isinstance(stdin, str):
            options["stdin"] = FakeStdin(stdin)
        elif stdin is not None:
            options["stdin"] = stdin
        try:
            call_command(*args, stdout=out, stderr=err, **options)
        except CommandError as exc:
            return Result(out.getvalue(), err.getvalue(), exc.returncode, str(exc))
        return Result(out.getvalue(), err.getvalue(), 0)

    return _run
