"""The Sigma emulator on a live port for tests: ``emulator_server``.

Mirrors pytest-django's ``live_server`` (``pytest_django/live_server_helper.py``):
in-memory SQLite connections are handed to the server thread, which is why the
fixture needs ``transactional_db`` (rows the test writes must be committed to be
seen by the server thread on any other database).

Use it directly, or with the host's ``live_server``; the emulator then accepts
frames from the host's origin. Import into a conftest with
``from tests.emulator.server import emulator_server  # noqa``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connections
from django.test.testcases import LiveServerThread

from sigma_emulator.handler import get_emulator_application

HOST = "127.0.0.1"


class EmulatorServerThread(LiveServerThread):
    """Django's live server thread, serving the emulator instead of the host."""

    def __init__(self, host: str, connections_override: dict[str, Any], port: int = 0):
        # static_handler is unused: get_emulator_application() serves static files.
        super().__init__(
            host, static_handler=None, connections_override=connections_override, port=port
        )

    def get_handler(self):
        return get_emulator_application()

    def run(self) -> None:
        # LiveServerThread.run() with the handler swapped; Django 5.2 has no hook.
        if self.connections_override:
            for alias, conn in self.connections_override.items():
                connections[alias] = conn
        try:
            handler = self.get_handler()
            self.httpd = self._create_server(connections_override=self.connections_override)
            if self.port == 0:
                self.port = self.httpd.server_address[1]
            self.httpd.set_app(handler)
            self.is_ready.set()
            self.httpd.serve_forever()
        except Exception as exc:  # noqa: BLE001 - re-raised by start() in the test thread
            self.error = exc
            self.is_ready.set()
        finally:
            connections.close_all()


@dataclass
class EmulatorServer:
    """A running emulator: ``url`` is its origin, e.g. ``http://127.0.0.1:54321``."""

    thread: EmulatorServerThread
    settings: Any
    frame_ancestors: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.thread.host

    @property
    def port(self) -> int:
        return self.thread.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def allow_frames_from(self, *origins: str) -> None:
        """Let these host origins frame the emulator (its CSP frame-ancestors)."""
        for origin in origins:
            if origin not in self.frame_ancestors:
                self.frame_ancestors.append(origin)
        self.settings.SIGMA_EMULATOR_FRAME_ANCESTORS = list(self.frame_ancestors)

    def __str__(self) -> str:
        return self.url


def start_emulator_server(settings: Any, *, frame_ancestors: list[str]) -> EmulatorServer:
    """Start the emulator on a free port of 127.0.0.1; stop it with ``stop_emulator_server``."""
    connections_override = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    thread = EmulatorServerThread(HOST, connections_override)
    thread.daemon = True
    for conn in connections_override.values():
        # Let the server thread use the test thread's in-memory connection.
        conn.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    server = EmulatorServer(thread=thread, settings=settings)
    if thread.error:
        stop_emulator_server(server)
        raise thread.error
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    settings.SIGMA_EMULATOR_ORIGIN = server.url
    if server.url not in settings.SIGMA_ALLOWED_ORIGINS:
        settings.SIGMA_ALLOWED_ORIGINS = [*settings.SIGMA_ALLOWED_ORIGINS, server.url]
    # Without origins of its own, the test keeps the configured ancestors.
    server.allow_frames_from(*(frame_ancestors or settings.SIGMA_EMULATOR_FRAME_ANCESTORS))
    return server


def stop_emulator_server(server: EmulatorServer) -> None:
    # The in-memory connections stay shareable after the server stops: a browser's
    # keep-alive request threads may still close them a moment later, and closing a
    # connection from another thread is refused once sharing is back to zero.
    # (Test-only and harmless: the live server shares the same connection anyway.)
    server.thread.terminate()


@pytest.fixture
def emulator_frame_ancestors(request: pytest.FixtureRequest) -> list[str]:
    """Origins the emulator lets frame it: the host live server's, when in use.

    Override this fixture to pass other origins, or call
    ``emulator_server.allow_frames_from(origin)`` in the test.
    """
    if "live_server" in request.fixturenames:
        return [request.getfixturevalue("live_server").url]
    return []


@pytest.fixture
def emulator_server(
    transactional_db: None, settings: Any, emulator_frame_ancestors: list[str]
) -> Iterator[EmulatorServer]:
    """The emulator on its own origin, enabled, for the length of one test."""
    server = start_emulator_server(settings, frame_ancestors=emulator_frame_ancestors)
    try:
        yield server
    finally:
        stop_emulator_server(server)
