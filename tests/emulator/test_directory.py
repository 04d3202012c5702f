"""sigma_emulator.directory: the organization the token checks read, from its own tables."""

from __future__ import annotations

import pytest

from sigma_emulator.directory import OrgDirectory
from sigma_emulator.models import AccountType, Member, Team
from sigma_emulator.services import create_credential, ensure_member, revoke_credential
from tests.emulator.conftest import CLIENT_ID, SECRET

pytestmark = pytest.mark.django_db


def test_embed_secret_is_the_registered_secret(emulator_credential):
    assert OrgDirectory().embed_secret(CLIENT_ID) == SECRET
    assert OrgDirectory().embed_secret("unknown") is None


def test_embed_secret_is_none_once_revoked(emulator_credential):
    revoke_credential(credential=emulator_credential)

    assert OrgDirectory().embed_secret(CLIENT_ID) is None


def test_embed_secret_is_none_without_the_embedding_privilege(emulator_credential):
    owner = emulator_credential.owner
    credential, secret = create_credential(
        name="API only", owner=owner, embed_privilege=False, api_privilege=True
    )

    assert secret
    assert OrgDirectory().embed_secret(credential.client_id) is None


def test_owner_rule_reads_the_owner_members_account_type(emulator_credential):
    directory = OrgDirectory()
    assert directory.owner_allows(CLIENT_ID, "anyone@example.com")

    owner = emulator_credential.owner
    owner.account_type = AccountType.objects.get(name="View")
    owner.save()

    assert not directory.owner_allows(CLIENT_ID, "anyone@example.com")
    assert directory.owner_allows(CLIENT_ID, "OWNER@example.com")
    assert not directory.owner_allows("unknown", "owner@example.com")


def test_teams_members_and_types_come_from_the_emulator(emulator_credential):
    directory = OrgDirectory()
    Team.objects.create(name="Archived", is_archived=True)
    ensure_member(email="Embed@Example.com", account_type="View", kind=Member.Kind.EMBED)

    assert directory.team_exists("Sales")
    assert not directory.team_exists("Archived")
    assert not directory.team_exists("sales")
    assert directory.account_type_exists("View")
    assert not directory.account_type_exists("Viewer")
    assert directory.attribute_exists("region")
    assert directory.is_internal_member("ADMIN@example.com")
    assert not directory.is_internal_member("embed@example.com")
    assert directory.connection_exists("5e0b3f4c-2a7d-4e8b-9c1f-0d6a2b7e9f31")
    assert not directory.connection_exists("nope")


def test_emulator_members_fixture_adds_an_internal_member_in_teams(emulator_members):
    member = emulator_members("Dana@example.com", account_type="View", teams=("Sales", "Ops"))

    assert OrgDirectory().is_internal_member("dana@example.com")
    assert member.account_type.name == "View"
    assert sorted(member.teams.values_list("name", flat=True)) == ["Ops", "Sales"]
