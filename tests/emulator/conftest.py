"""Fixtures of the emulator tests (the top-level conftest may import them too)."""

from tests.emulator.server import emulator_frame_ancestors, emulator_server  # noqa: F401
