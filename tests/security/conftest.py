"""Fixtures for the hostile-review tests: the admin's least-privileged staff user."""

from tests.embeds.admin.conftest import staff_factory  # noqa: F401
