"""Admin pages that ask Sigma: registry sync, content picker, "Check against Sigma"."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from embeds.admin import remote as remote_admin
from embeds.models import AccountType, Embed, Team
from embeds.remote.usage import api_client
from sigma_emulator.models import Team as SigmaTeam
from sigma_emulator.models import Workbook
from sigma_emulator.services import rename_team
from tests.sigma_org import EmulatorTransport

SYNC_URL = "admin:embeds_team_sync"
PICK_URL = "admin:embeds_embed_pick"


@pytest.fixture(autouse=True)
def in_process_sigma(monkeypatch):
    """Admin pages reach the emulator in-process instead of over a port."""
    monkeypatch.setattr(
        remote_admin, "api_client", lambda: api_client(transport=EmulatorTransport())
    )


def texts(response) -> str:
    return response.content.decode()


def test_sync_preview_lists_adds_and_changes_nothing(admin_client, sigma_org):
    Team.objects.create(name="Sales")

    response = admin_client.get(reverse(SYNC_URL))

    page = texts(response)
    assert response.status_code == 200
    assert "Marketing" in page and ">add<" in page
    assert not Team.objects.filter(name="Marketing").exists()
    assert sigma_org.signing_secret() not in page


def test_sync_follows_a_team_renamed_in_sigma(admin_client, sigma_org, embed_factory):
    admin_client.post(reverse(SYNC_URL))  # records Sigma's ids
    embed = embed_factory(slug="sales", teams=("Sales",), credential=sigma_org)
    rename_team(team=SigmaTeam.objects.get(name="Sales"), name="Sales EMEA")

    preview = texts(admin_client.get(reverse(SYNC_URL)))
    assert "Sales &rarr; Sales EMEA" in preview
    response = admin_client.post(reverse(SYNC_URL), follow=True)

    assert list(Embed.objects.get(pk=embed.pk).teams.values_list("name", flat=True)) == [
        "Sales EMEA"
    ]
    assert "1 renamed" in texts(response)


def test_sync_retires_unused_rows_and_keeps_used_ones(
    admin_client, sigma_org, user_factory, team_factory
):
    team_factory("Gone unused")
    user_factory("dave", teams=["Gone used"], account_type="Creator")

    response = admin_client.post(reverse(SYNC_URL), follow=True)

    page = texts(response)
    assert not Team.objects.filter(name="Gone unused").exists()
    assert Team.objects.filter(name="Gone used").exists()
    assert AccountType.objects.filter(name="Creator").exists()
    assert "Kept team &#x27;Gone used&#x27;: used by user dave" in page
    assert "Kept account type &#x27;Creator&#x27;: used by user dave" in page
    assert set(Team.objects.values_list("name", flat=True)) >= {"Sales", "Marketing"}


def test_sync_needs_every_registry_permission(client, sigma_org, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="demo", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="change_team"))
    client.force_login(staff)

    assert client.get(reverse(SYNC_URL)).status_code == 403
    assert client.post(reverse(SYNC_URL)).status_code == 403


def test_sync_says_why_when_sigma_cannot_answer(admin_client, sigma_org, settings, monkeypatch):
    monkeypatch.setattr(
        remote_admin, "api_client", lambda: api_client(sleep=lambda s: None, timeout=1)
    )
    settings.SIGMA_API_BASE_URL = "http://127.0.0.1:9"
    Team.objects.create(name="Sales")

    response = admin_client.post(reverse(SYNC_URL))

    assert "Sigma could not answer" in texts(response)
    assert "did not answer (ConnectError)" in texts(response)
    assert list(Team.objects.values_list("name", flat=True)) == ["Sales"]


def test_picker_walks_workbook_pages_and_elements_to_the_add_form(admin_client, sigma_org):
    workbooks = texts(admin_client.get(reverse(PICK_URL)))
    assert "Sales Overview" in workbooks
    assert "Sample warehouse" in workbooks  # connections, for eval_connection_id

    browse = admin_client.get(reverse(PICK_URL), {"workbook": _sales_workbook_id()})
    page = texts(browse)
    assert "/page/" in page
    page_id = page.split("/page/")[1].split("<")[0].split("&")[0]
    elements = texts(
        admin_client.get(reverse(PICK_URL), {"workbook": _sales_workbook_id(), "page": page_id})
    )
    use = elements.split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")

    query = parse_qs(urlsplit(use).query)
    assert urlsplit(use).path == reverse("admin:embeds_embed_add")
    assert "/element/" in query["url"][0]
    add_form = texts(admin_client.get(use))
    assert query["url"][0] in add_form


def _sales_workbook_id() -> str:
    return Workbook.objects.get(name="Sales Overview").workbook_id


def test_check_action_lists_findings_for_the_selected_embed(
    admin_client, sigma_org, embed_factory, user_factory
):
    embed = embed_factory(slug="sales", teams=("Sales",), credential=sigma_org)
    user_factory("alice", teams=["Sales"], attributes={"region": "West"})
    changelist = reverse("admin:embeds_embed_changelist")
    action = {"action": "check_against_sigma_action", "_selected_action": [embed.pk]}

    clean = admin_client.post(changelist, action, follow=True)
    assert "matches Sigma: no finding" in texts(clean)

    rename_team(team=SigmaTeam.objects.get(name="Sales"), name="Sales EMEA")
    broken = texts(admin_client.post(changelist, action))
    assert "embeds.R001" in broken
    assert "Team &#x27;Sales&#x27; does not exist in Sigma" in broken
    assert sigma_org.signing_secret() not in broken


def test_changelists_link_to_the_sigma_pages(admin_client, sigma_org):
    assert reverse(PICK_URL) in texts(admin_client.get(reverse("admin:embeds_embed_changelist")))
    assert reverse(SYNC_URL) in texts(admin_client.get(reverse("admin:embeds_team_changelist")))


def test_check_action_on_users_lists_their_findings(admin_client, sigma_org, user_factory):
    mallory = user_factory("mallory", teams=["Sales"], sigma_email="analyst@example.com")
    alice = user_factory("alice", teams=["Sales"], attributes={"region": "West"})
    changelist = reverse("admin:auth_user_changelist")

    clean = admin_client.post(
        changelist,
        {"action": "check_users_against_sigma_action", "_selected_action": [alice.pk]},
        follow=True,
    )
    broken = admin_client.post(
        changelist,
        {"action": "check_users_against_sigma_action", "_selected_action": [mallory.pk]},
    )

    assert "matches Sigma: no finding" in texts(clean)
    assert "embeds.R008" in texts(broken)
    assert "internal Sigma member" in texts(broken)
