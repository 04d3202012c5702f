"""Fixtures for the hostile-review tests: the admin's least-privileged staff user
and the documented commands, as their own test folders define them."""

import pytest

from tests.embeds.admin.conftest import staff_factory  # noqa: F401
from tests.embeds.management.conftest import run  # noqa: F401


@pytest.fixture
def previewer(client, staff_factory):  # noqa: F811 (staff_factory is the fixture above)
    """A staff user holding only ``embeds.preview_embed``, signed in to the admin."""
    user = staff_factory("previewer", "embeds.preview_embed")
    client.force_login(user)
    return user
