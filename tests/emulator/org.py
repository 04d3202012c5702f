"""The emulated Sigma organization in tests: the same credentials the host holds.

``register_emulator_credential`` (and the ``emulator_registers`` fixture) put a
client ID and secret into the emulator's own tables, as creating them on its
Developer Access page would, so tokens the host signs with them verify.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sigma_emulator.models import Credential, Member, Team
from sigma_emulator.sample import seed_organization
from sigma_emulator.services import ensure_member, register_credential

ORG = "acme"


def register_emulator_credential(
    client_id: str,
    secret: str,
    *,
    name: str = "Registered by a test",
    owner_email: str = "owner@example.com",
    owner_is_admin: bool = True,
    org: str = ORG,
) -> Credential:
    """Put credentials the host also holds into the emulator's own tables.

    The sample organization (team Sales, account type View, the Sales Overview
    workbook shared with Sales) is created first if missing, under slug ``org``.
    """
    seed_organization(slug=org)
    return register_credential(
        client_id=client_id,
        secret=secret,
        name=name,
        owner_email=owner_email,
        owner_is_admin=owner_is_admin,
    )


@pytest.fixture
def emulator_registers(db) -> Callable[..., Credential]:
    """``register(client_id, secret, **options)``: the same credentials in the emulator."""
    return register_emulator_credential


def add_emulator_member(
    email: str,
    *,
    account_type: str = "Build",
    teams: tuple[str, ...] = ("Sales",),
    kind: str = Member.Kind.INTERNAL,
    first_name: str = "",
    last_name: str = "",
) -> Member:
    """A member of the emulated organization (an internal member by default), in ``teams``.

    Internal members sign in as themselves: their own account type and teams decide
    what they see, whatever the token says.
    """
    member = ensure_member(
        email=email,
        account_type=account_type,
        first_name=first_name,
        last_name=last_name,
        kind=kind,
    )
    member.teams.set([Team.objects.get_or_create(name=name)[0] for name in teams])
    return member


@pytest.fixture
def emulator_members(db) -> Callable[..., Member]:
    """``add(email, account_type=..., teams=..., kind=...)``: a member of the emulated org."""
    return add_emulator_member
