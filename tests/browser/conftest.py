"""Browser fixtures: headless Chromium driven by Playwright, the host on pytest-django's
live server and the Sigma emulator on a second origin.

Chromium comes from Debian (`/usr/bin/chromium`, installed by `make test`) or from
SIGMA_TEST_CHROMIUM; where neither exists, Playwright's own download is used
(`playwright install chromium`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

# The session's one Chromium (``browser``) is defined in tests/browser/chromium.py and
# registered by tests/conftest.py, so browser tests elsewhere (tests/packaging) share it:
# a second Playwright in the same thread refuses to start.

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class BrowserPage:
    """A Playwright page plus everything the browser complained about."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = BrowserPage(page=page)
    page.on(
        "console",
        lambda message: message.type == "error" and watched.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    # CSP violations surface as console errors in Chromium; keep them apart too.
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and watched.csp_violations.append(message.text)
        ),
    )
    yield watched
    context.close()


@dataclass
class SigmaSite:
    """The host (live server) and the emulator, wired to trust each other."""

    host: str
    emulator: str

    def url(self, path: str) -> str:
        return f"{self.host}{path}"


@pytest.fixture
def sigma_site(live_server, emulator_server, settings) -> SigmaSite:
    """Host + emulator on two origins, seeded with the demo data (alice, bob, admin).

    ``emulator_server`` enables the emulator, adds its origin to
    SIGMA_ALLOWED_ORIGINS and lets the live server's origin frame it.
    """
    call_command("seed_demo", "--force", verbosity=0)
    return SigmaSite(host=live_server.url, emulator=emulator_server.url)


def sign_in(page, site: SigmaSite, username: str, password: str = "demo") -> None:  # noqa: S107
    """Sign in through the real login form."""
    page.goto(site.url("/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
