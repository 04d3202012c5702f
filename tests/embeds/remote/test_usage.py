"""The REST API client and ``sigma_check --remote`` against the emulated Sigma organization.

The client talks to the emulator's own WSGI application in-process
(``httpx.WSGITransport``), so the emulator answers from its own tables exactly as on
its own origin; the command tests use the emulator on a live port.
"""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from embeds.remote import client as sigma_api
from embeds.remote.client import SigmaAPIUnreachable
from embeds.remote.usage import NoAPICredential, api_client, api_credential, check_against_sigma
from sigma_emulator.models import Team
from sigma_emulator.services import expire_api_tokens, inject_api_fault, rename_team
from tests.conftest import WORKBOOK_URL
from tests.sigma_org import EmulatorTransport, hold_emulator_credentials


@pytest.fixture
def transport():
    return EmulatorTransport()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sigma_org, transport, sleeps):
    with api_client(sigma_org, transport=transport, sleep=sleeps.append) as client:
        yield client


def test_client_lists_the_emulated_organization(client):
    assert {t["name"] for t in client.list_teams()} >= {"Sales"}
    assert {a["accountTypeName"] for a in client.list_account_types()} >= {"View", "Admin"}
    assert "region" in {a["name"] for a in client.list_user_attributes()}
    workbook = next(w for w in client.list_workbooks() if w["name"] == "Sales Overview")
    pages = client.list_workbook_pages(workbook["workbookId"])
    assert pages
    assert client.list_page_elements(workbook["workbookId"], pages[0]["pageId"])


def test_client_follows_next_page_across_the_emulators_pages(client, transport, monkeypatch):
    monkeypatch.setattr(sigma_api, "PAGE_LIMIT", 2)
    for n in range(5):
        Team.objects.create(name=f"Team {n}")
    expected = set(Team.objects.values_list("name", flat=True))

    teams = client.list_teams()

    assert {t["name"] for t in teams} == expected
    assert transport.paths.count("/v2/teams") == -(-len(expected) // 2)  # ceil


def test_client_retries_429_honouring_retry_after(client, sleeps):
    inject_api_fault(status=429, times=2, retry_after=3)

    assert client.list_connections()
    assert sleeps == [3.0, 3.0]


def test_client_renews_an_expired_api_token(client, transport):
    client.list_teams()
    expire_api_tokens()

    client.list_teams()

    assert transport.paths.count("/v2/auth/token") == 2


def test_client_reports_an_unreachable_api(sigma_org, settings, sleeps):
    settings.SIGMA_API_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens

    with api_client(sigma_org, sleep=sleeps.append, timeout=2) as client:
        with pytest.raises(SigmaAPIUnreachable, match="did not answer"):
            client.list_teams()
    assert len(sleeps) == 3


def test_secret_never_reaches_logs(client, sigma_org, caplog):
    caplog.set_level(logging.DEBUG)

    client.list_members()

    assert sigma_org.signing_secret() not in caplog.text


def test_api_credential_needs_the_rest_api_privilege(sigma_org):
    sigma_org.api_privilege = False
    sigma_org.save()

    with pytest.raises(NoAPICredential, match="has the REST API privilege"):
        api_credential()


def test_api_credential_must_be_named_when_several_qualify(sigma_org, credential_factory):
    credential_factory(name="Second", api_privilege=True)

    with pytest.raises(NoAPICredential, match="SIGMA_API_CREDENTIAL"):
        api_credential()
    assert api_credential("Second").name == "Second"


# --- Findings against the emulator -------------------------------------------------


@pytest.fixture
def demo_config(sigma_org, embed_factory, user_factory):
    """The demo as the host holds it: embed 'sales' for team Sales, alice in Sales."""
    embed = embed_factory(slug="sales", teams=("Sales",), credential=sigma_org)
    alice = user_factory("alice", teams=["Sales"], attributes={"region": "West"})
    return embed, alice


def test_demo_configuration_matches_the_emulated_organization(demo_config, client):
    assert check_against_sigma(client=client) == []


def test_team_renamed_in_sigma_names_the_team_and_what_it_breaks(demo_config, client):
    rename_team(team=Team.objects.get(name="Sales"), name="Sales EMEA")

    findings = check_against_sigma(client=client)

    assert [(f.id, f.message) for f in findings] == [
        (
            "embeds.R001",
            "Team 'Sales' does not exist in Sigma; it breaks embed sales, user alice.",
        )
    ]


def test_wrong_workbook_and_unknown_account_type_are_reported(demo_config, client, user_factory):
    embed, _ = demo_config
    embed.url = WORKBOOK_URL.replace("4bq2ZtkLmV8xWn3pRs6HyA", "Zz9yXw8vUt7sRq6pOn5mLk")
    embed.save()
    user_factory("carol", teams=["Sales"], account_type="Creator")

    ids = sorted(f.id for f in check_against_sigma(client=client))

    assert ids == ["embeds.R002", "embeds.R004"]


def test_host_user_with_an_internal_members_email_is_reported(demo_config, client, user_factory):
    user_factory("mallory", teams=["Sales"], sigma_email="analyst@example.com")

    findings = check_against_sigma(client=client)

    assert [f.id for f in findings] == ["embeds.R008"]
    assert "'mallory'" in findings[0].message


@pytest.mark.django_db(transaction=True)
def test_sigma_check_remote_command_clean_then_after_a_rename(
    emulator_server, settings, embed_factory, user_factory
):
    settings.SIGMA_API_BASE_URL = emulator_server.url
    host = hold_emulator_credentials()
    secret = host.signing_secret()
    embed_factory(slug="sales", teams=("Sales",), credential=host)
    user_factory("alice", teams=["Sales"], attributes={"region": "West"})

    code, clean = _run_remote_check()
    assert [f for f in clean["findings"] if f["id"].startswith("embeds.R")] == []

    rename_team(team=Team.objects.get(name="Sales"), name="Sales EMEA")
    code, broken = _run_remote_check()

    assert code == 1
    remote = [f for f in broken["findings"] if f["id"].startswith("embeds.R")]
    assert [(f["id"], f["level"], f["message"]) for f in remote] == [
        (
            "embeds.R001",
            "error",
            "Team 'Sales' does not exist in Sigma; it breaks embed sales, user alice.",
        )
    ]
    assert secret not in json.dumps(broken)


def _run_remote_check() -> tuple[int, dict]:
    """Run ``sigma_check --remote --json``; return its exit code and its JSON."""
    out = StringIO()
    try:
        call_command("sigma_check", "--remote", "--json", stdout=out)
    except CommandError as exc:
        return exc.returncode, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


@pytest.mark.django_db
def test_sigma_check_remote_without_an_api_credential_fails_clearly(credential_factory):
    with pytest.raises(CommandError) as caught:
        call_command("sigma_check", "--remote")

    assert caught.value.returncode == 1
    assert str(caught.value).startswith("Could not check against Sigma: No active credential")
