"""The session's headless Chromium, shared by every test that drives a browser.

Registered once, by tests/conftest.py: two Playwright instances cannot run in one
thread, so tests/browser and tests/packaging must share this one fixture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SIGMA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        options = {"headless": True, "args": CHROMIUM_ARGS}
        if Path(CHROMIUM).exists():
            options["executable_path"] = CHROMIUM
        instance = playwright.chromium.launch(**options)
        yield instance
        instance.close()
