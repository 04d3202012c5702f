"""manage.py sigma_members: Sigma embed users no active host user maps to any more.

Against a Sigma organization that answers as Sigma's OpenAPI document says
(tests/sigma_document_org.py), and against the emulator.
"""

from __future__ import annotations

import json
from io import StringIO

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from embeds.management.commands import sigma_members as command
from embeds.models import AccountType, GroupMapping, SecurityEvent
from embeds.remote.client import SigmaAPIClient
from embeds.remote.usage import api_client
from embeds.services.sigma_members import REASON_UNMAPPED
from sigma_emulator.models import Member as SigmaMember
from sigma_emulator.services import provision_embed_user
from tests.sigma_document_org import DocumentSigma, member
from tests.sigma_org import EmulatorTransport

pytestmark = pytest.mark.django_db


@pytest.fixture
def sigma(monkeypatch, credential_factory) -> DocumentSigma:
    """The document-shaped organization: alice (mapped), bob (deactivated on the
    host), carol-old (the host user's email changed), an archived and an inactive one."""
    credential_factory(name="Sigma API", api_privilege=True, embed_privilege=False)
    org = DocumentSigma(page_size=2)
    org.members += [
        member("m-bob", "bob@example.com", "View", kind="embed"),
        member("m-carol-old", "carol-old@example.com", "View", kind="embed"),
    ]
    monkeypatch.setattr(command, "api_client", lambda credential: org.client())
    return org


@pytest.fixture
def host_users(user_factory):
    user_factory("alice", teams=["Sales"])
    user_factory("bob", teams=["Sales"], is_active=False)
    user_factory("carol", teams=["Sales"], email="carol-new@example.com")


def run(*args: str, stdin: str = "") -> str:
    out = StringIO()
    call_command("sigma_members", *args, stdout=out, stdin=StringIO(stdin))
    return out.getvalue()


def test_lists_embed_users_no_active_host_user_maps_to(sigma, host_users):
    output = run()

    assert output.splitlines() == [
        "Stale: bob@example.com (m-bob): host user 'bob' is deactivated",
        f"Stale: carol-old@example.com (m-carol-old): {REASON_UNMAPPED}",
        f"Stale: idle@example.com (m-idle): {REASON_UNMAPPED} [inactive in Sigma]",
    ]
    assert "m-alice" not in output and "gone@example.com" not in output  # mapped; archived
    assert not any(r.method == "DELETE" for r in sigma.requests)


def test_json_lists_the_same(sigma, host_users):
    body = json.loads(run("--json"))

    assert [m["memberId"] for m in body["stale"]] == ["m-bob", "m-carol-old", "m-idle"]


def test_deactivate_without_confirmation_changes_nothing(sigma, host_users):
    output = run("--deactivate", stdin="no\n")

    assert "Would deactivate: bob@example.com" in output
    assert output.rstrip().endswith(command.MSG_NOTHING_CHANGED)
    assert not any(r.method == "DELETE" for r in sigma.requests)
    assert not SecurityEvent.objects.exists()


def test_deactivate_confirmed_deactivates_each_through_sigma_and_records_it(
    sigma, host_users, admin_user
):
    output = run("--deactivate", "--actor", admin_user.get_username(), stdin="yes\n")

    deleted = [r.url.path for r in sigma.requests if r.method == "DELETE"]
    assert deleted == ["/v2/members/m-bob", "/v2/members/m-carol-old", "/v2/members/m-idle"]
    assert "3 embed user(s) deactivated in Sigma." in output
    events = SecurityEvent.objects.order_by("id")
    assert [(e.kind, e.target, e.actor) for e in events] == [
        (SecurityEvent.Kind.SIGMA_MEMBER_DEACTIVATED, email, admin_user)
        for email in ("bob@example.com", "carol-old@example.com", "idle@example.com")
    ]
    assert events[0].reason == "host user 'bob' is deactivated"
    assert run() == command.MSG_NONE + "\n"  # archived now: no longer listed


def test_sigma_unreachable_is_a_command_error(sigma, host_users, monkeypatch):
    monkeypatch.setattr(command, "api_client", lambda credential: _unreachable())

    with pytest.raises(CommandError) as refused:
        run()

    assert refused.value.returncode == 1
    assert "Sigma could not answer" in str(refused.value)


def _unreachable() -> SigmaAPIClient:
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    return SigmaAPIClient(
        base_url="https://api.example.test",
        client_id="c",
        client_secret="s",  # noqa: S106
        transport=httpx.MockTransport(refuse),
        max_retries=0,
    )


def test_against_the_emulator(sigma_org, user_factory, monkeypatch):
    """An embed user Sigma created for a host user who is then deactivated."""
    user_factory("dave", teams=["Sales"])
    for email in ("dave@example.com", "erin@example.com"):
        provision_embed_user({"sub": email, "account_type": "View", "teams": ["Sales"]})
    monkeypatch.setattr(
        command,
        "api_client",
        lambda credential: api_client(credential, transport=EmulatorTransport()),
    )

    listed = run()
    done = run("--deactivate", "--yes")

    assert listed.splitlines() == [
        f"Stale: erin@example.com ({_id('erin@example.com')}): {REASON_UNMAPPED}"
    ]
    assert "1 embed user(s) deactivated in Sigma." in done
    assert SigmaMember.objects.get(email="erin@example.com").is_archived
    assert not SigmaMember.objects.get(email="dave@example.com").is_archived


def _id(email: str) -> str:
    return SigmaMember.objects.get(email=email).member_id


def test_an_active_user_refused_for_the_moment_is_not_listed_as_stale(
    sigma, host_users, user_factory
):
    """An active user whose identity is refused today (groups disagreeing on the
    account type) still maps to their Sigma account: never offered for
    deactivation (hostile review NEW-1)."""
    sigma.members.append(member("m-dora", "dora@example.com", "View", kind="embed"))
    dora = user_factory("dora", teams=["Sales"], account_type=None)
    for name, account_type in (("Viewers", "View"), ("Builders", "Build")):
        group = Group.objects.create(name=name)
        GroupMapping.objects.create(
            group=group, account_type=AccountType.objects.get_or_create(name=account_type)[0]
        )
        dora.groups.add(group)

    output = run()

    assert "dora@example.com" not in output
    assert "bob@example.com" in output
