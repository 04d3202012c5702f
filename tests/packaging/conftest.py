"""The browser fixture for the fresh-site test (the wheel's page in Chromium)."""

from tests.browser.conftest import browser  # noqa: F401
