"""Fixtures for the hostile-review tests: the admin's least-privileged staff user
and the documented commands, as their own test folders define them."""

from tests.embeds.admin.conftest import staff_factory  # noqa: F401
from tests.embeds.management.conftest import run  # noqa: F401
