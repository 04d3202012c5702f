"""The emulator's own admin pages in Chromium: every form posts (issue 22).

Under ``Referrer-Policy: no-referrer`` Chromium posts ``Origin: null`` and Django's
CSRF check refuses the form; these tests drive the real pages end to end.
"""

from __future__ import annotations

import re

import pytest

from sigma_emulator.models import Credential, Team
from sigma_emulator.sample import seed_organization

pytestmark = pytest.mark.django_db(transaction=True)

DEVELOPER_ACCESS = "/demo-org/admin/developer-access"


@pytest.fixture
def organization(emulator_server):
    seed_organization()
    return emulator_server


def test_developer_access_creates_and_revokes_a_credential_in_chromium(browser_page, organization):
    page = browser_page.page
    response = page.goto(organization.url + DEVELOPER_ACCESS)
    assert response.status == 200
    page.fill("#id_name", "Browser-made")
    page.check("input[name=embed_privilege]")
    page.check("input[name=api_privilege]")
    page.select_option("#id_owner", index=1)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#create")
    assert posted.value.status == 201, page.inner_text("body")[:500]
    client_id = page.inner_text("#client-id")
    secret = page.inner_text("#client-secret")
    assert re.fullmatch(r"[0-9a-f]{32}", client_id)
    assert re.fullmatch(r"[0-9a-f]{128}", secret)
    credential = Credential.objects.get(client_id=client_id)
    assert (credential.embed_privilege, credential.api_privilege) == (True, True)

    page.click("text=Done")
    page.wait_for_selector(f"#credential-{client_id}")
    assert secret not in page.content()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(f"#credential-{client_id} button[name=revoke]")
    assert posted.value.status in (200, 302, 303)
    page.wait_for_selector("#revoked-notice")
    assert "Revoked" in page.inner_text(f"#credential-{client_id}")
    credential.refresh_from_db()
    assert not credential.is_active
    assert browser_page.console_errors == []


def test_team_rename_posts_in_chromium(browser_page, organization):
    page = browser_page.page
    team = Team.objects.order_by("name").first()
    page.goto(organization.url + "/demo-org/admin/")
    field = page.locator(f"input[aria-label='New name of {team.name}']")
    field.fill("Renamed in browser")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        field.press("Enter")
    assert posted.value.status in (200, 302, 303)
    page.wait_for_load_state()
    team.refresh_from_db()
    assert team.name == "Renamed in browser"
