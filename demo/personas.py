"""The demo's users and their published password (plain data, no Django imports).

``hostsite/settings.py`` hands :data:`PUBLISHED_PASSWORDS` to the embeds app as
``SIGMA_PUBLISHED_PASSWORDS``, so ``check --deploy`` (``embeds.W104``) warns while any
of these logins still signs in with the password the README publishes; the app itself
knows nothing of the demo.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo"  # noqa: S105  (documented demo logins, refused without DEBUG)

#: username, email, first name, last name, staff and superuser.
PEOPLE: tuple[tuple[str, str, str, str, bool], ...] = (
    ("alice", "alice@example.com", "Alice", "Anders", False),
    ("bob", "bob@example.com", "Bob", "Brown", False),
    ("admin", "admin@example.com", "Ada", "Admin", True),
    ("elena", "elena@example.com", "Elena", "East", False),
)
DEMO_USERNAMES: tuple[str, ...] = tuple(person[0] for person in PEOPLE)

#: Every seeded login with the password it is created with.
PUBLISHED_PASSWORDS: dict[str, str] = dict.fromkeys(DEMO_USERNAMES, DEMO_PASSWORD)
