"""``manage.py sigma_emulator [addrport]``: serve the local Sigma emulator."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import run

from sigma_emulator.handler import get_emulator_application

DEFAULT_ADDR = "127.0.0.1"
DEFAULT_PORT = 8001
_ADDRPORT = re.compile(r"^(?:(?P<addr>[A-Za-z0-9.-]+):)?(?P<port>\d{1,5})$")

MSG_DISABLED = (
    "The Sigma emulator is disabled. Set SIGMA_EMULATOR_ENABLED=true in the "
    "environment (development only) to run it."
)
MSG_ADDRPORT = "%r is not a port or address:port, e.g. 8001 or 127.0.0.1:8001."


def parse_addrport(value: str | None) -> tuple[str, int]:
    """``"8001"`` or ``"host:8001"`` to (host, port); CommandError otherwise."""
    if not value:
        return DEFAULT_ADDR, DEFAULT_PORT
    match = _ADDRPORT.match(value)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise CommandError(MSG_ADDRPORT % value[:100], returncode=2)
    return match["addr"] or DEFAULT_ADDR, int(match["port"])


class Command(BaseCommand):
    help = (
        "Serve the local Sigma emulator on its own origin (default "
        "127.0.0.1:8001). Needs SIGMA_EMULATOR_ENABLED=true."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport",
            nargs="?",
            help="Port or address:port to listen on (default 127.0.0.1:8001).",
        )

    def handle(self, *args: object, **options: object) -> None:
        # Never on unless asked for: the emulator accepts any token signed with a
        # stored secret and shows the claims, which no deployment should expose.
        if not getattr(settings, "SIGMA_EMULATOR_ENABLED", False):
            raise CommandError(MSG_DISABLED, returncode=1)
        addr, port = parse_addrport(options.get("addrport"))  # type: ignore[arg-type]
        origin = f"http://{addr}:{port}"
        configured = getattr(settings, "SIGMA_EMULATOR_ORIGIN", origin)
        self.stdout.write(f"Sigma emulator at {origin}/ (Ctrl-C to quit)")
        if configured != origin:
            self.stderr.write(
                self.style.WARNING(
                    f"SIGMA_EMULATOR_ORIGIN is {configured}; the host will not "
                    f"point its iframes at {origin}."
                )
            )
        try:
            run(addr, port, get_emulator_application(), threading=True)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {addr}:{port}: {exc}") from exc
        except KeyboardInterrupt:
            pass
