"""The admin driven as a person would, in Chromium: add a credential, map alice, preview
as alice, revoke and re-activate, rotate to a new credential with no request failing.

Set SIGMA_ADMIN_SCREENSHOTS=1 to refresh the README's screenshots in docs/screenshots/
(they are always written to test-artifacts/ too).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jwt
import pytest

from embeds.models import AccessRecord, Credential, Embed, SigmaProfile
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import CANARY_SECRET

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NEW_CLIENT_ID = "browser-rotation-client"


def shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    page.screenshot(path=str(target), full_page=full_page)
    if os.environ.get("SIGMA_ADMIN_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, DOCS_SCREENSHOTS / name)


def assert_no_secret(page) -> None:
    html = page.content()
    assert CANARY_SECRET not in html


def admin_page(browser_page, sigma_site):
    page = browser_page.page
    # Console errors other than the browser's own favicon request (the host has none).
    page.admin_errors = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico")
            and page.admin_errors.append(m.text)
        ),
    )
    sign_in(page, sigma_site, "admin")
    return page


def alice_page(browser, sigma_site):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, sigma_site, "alice")
    return page


def alice_sees_embed(page, sigma_site, slug: str = "sales-overview") -> str:
    """Open alice's embed page, wait for the emulator to show her; return the iframe src."""
    response = page.goto(sigma_site.url(f"/embeds/{slug}/"))
    assert response.status == 200, page.inner_text("main")
    frame = page.frame_locator("iframe#sigma-embed")
    frame.locator("#signed-in-as").get_by_text("alice@example.com").wait_for()
    return page.get_attribute("iframe#sigma-embed", "src")


def add_credential(page, sigma_site, *, name: str, client_id: str) -> None:
    page.goto(sigma_site.url("/admin/embeds/credential/add/"))
    page.fill("#id_name", name)
    page.fill("#id_client_id", client_id)
    page.fill("#id_embed_secret", CANARY_SECRET)
    page.fill("#id_owner_email", "admin@example.com")
    page.check("#id_owner_is_admin_0")  # "Yes": chosen explicitly, no default
    page.click("input[name=_save]")
    page.wait_for_load_state()


def run_action(page, *, pks, action: str) -> None:
    for pk in pks:
        page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_load_state()


def test_admin_adds_credential_maps_alice_previews_revokes_and_reactivates(
    browser, browser_page, sigma_site
):
    page = admin_page(browser_page, sigma_site)

    # 1. Add a credential; the secret is in no page afterwards (page source checked).
    add_credential(page, sigma_site, name="Browser credential", client_id=NEW_CLIENT_ID)
    assert "was added successfully" in page.inner_text("#content-start, body")
    credential = Credential.objects.get(client_id=NEW_CLIENT_ID)
    change_url = sigma_site.url(f"/admin/embeds/credential/{credential.pk}/change/")
    for url in (
        change_url,
        sigma_site.url("/admin/embeds/credential/"),
        sigma_site.url(f"/admin/embeds/credential/{credential.pk}/history/"),
        sigma_site.url("/admin/"),
    ):
        page.goto(url)
        assert_no_secret(page)
    page.goto(change_url)
    assert credential.secret_fingerprint in page.inner_text(".field-fingerprint")
    assert page.locator("input[type=password]").count() == 0

    # 2. Map alice to the Sales team on her user page (she starts with none).
    alice_profile = SigmaProfile.objects.get(user__username="alice")
    alice_profile.teams.clear()
    page.goto(sigma_site.url(f"/admin/auth/user/{alice_profile.user_id}/change/"))
    page.select_option("#id_sigma_profile-0-teams_from", label="Sales")
    page.click("#id_sigma_profile-0-teams_add")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    assert "was changed successfully" in page.inner_text("body")
    assert list(alice_profile.teams.values_list("name", flat=True)) == ["Sales"]

    # 3. Preview the embed as alice: the emulator shows her claims; admin stays admin.
    embed = Embed.objects.get(slug="sales-overview")
    page.goto(sigma_site.url(f"/admin/embeds/embed/{embed.pk}/change/"))
    assert "workbook" in page.inner_text(".field-kind")
    shot(page, "admin-embed.png")
    page.click("text=Preview as a user…")
    page.select_option("#id_user", label="alice")
    page.click("input[value='Sign preview']")
    page.wait_for_selector("iframe#preview-frame")
    frame = page.frame_locator("iframe#preview-frame")
    frame.locator("#signed-in-as").get_by_text("alice@example.com").wait_for()
    assert frame.locator("#teams").inner_text() == "Sales"
    assert "West" in frame.locator("#user-attributes").inner_text()
    assert '"sub": "alice@example.com"' in page.inner_text("#preview-claims")
    assert ":jwt=[redacted]" in page.inner_text("#preview-url")
    # Still signed in as the admin (Ada), never switched to alice.
    assert "ADA" in page.inner_text("#user-tools").upper()
    # Headless Chromium leaves cross-origin iframes blank in full-page captures:
    # capture the viewport with the live embed in it instead.
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.locator("#preview-frame").scroll_into_view_if_needed()
    shot(page, "admin-preview.png", full_page=False)
    assert_no_secret(page)
    assert AccessRecord.objects.filter(is_preview=True, user__username="alice").count() == 1

    # 4. Revoke the demo credential with a reason; alice's embed page refuses.
    demo = Credential.objects.get(name="Demo (local emulator)")
    page.goto(sigma_site.url(f"/admin/embeds/credential/{demo.pk}/change/"))
    assert "Sales overview" in page.inner_text(".field-embeds_using")
    assert demo.secret_fingerprint in page.inner_text(".field-fingerprint")
    shot(page, "admin-credential.png")
    page.goto(sigma_site.url("/admin/embeds/credential/"))
    run_action(page, pks=[demo.pk], action="revoke_selected")
    assert "Sales overview" in page.inner_text("table.impact")
    page.fill("#id_reason", "Browser test: secret exposed")
    page.click("input[value='Revoke credentials']")
    page.wait_for_load_state()
    assert "1 credential was revoked" in page.inner_text("body")
    alice = alice_page(browser, sigma_site)
    response = alice.goto(sigma_site.url("/embeds/sales-overview/"))
    assert response.status == 503
    assert "revoked" in alice.inner_text("main")
    demo.refresh_from_db()
    assert demo.revoked_reason == "Browser test: secret exposed"
    assert demo.revoked_by.username == "admin"

    # 5. Re-activate from the credential's page; alice sees her embed again.
    page.goto(sigma_site.url(f"/admin/embeds/credential/{demo.pk}/change/"))
    page.click("text=Re-activate…")
    page.click("input[value='Re-activate credentials']")
    page.wait_for_load_state()
    assert "1 credential was re-activated." in page.inner_text("body")
    alice_sees_embed(alice, sigma_site)
    assert browser_page.csp_violations == []
    assert page.admin_errors == []


def test_rotation_to_a_new_credential_fails_no_request(
    browser, browser_page, sigma_site, emulator_registers
):
    # The new credentials exist in the Sigma organization first (its Developer Access).
    emulator_registers(NEW_CLIENT_ID, CANARY_SECRET, name="Rotated", org="demo-org")
    page = admin_page(browser_page, sigma_site)
    alice = alice_page(browser, sigma_site)
    old = Credential.objects.get(name="Demo (local emulator)")
    embeds = list(Embed.objects.order_by("pk"))

    def credential_embed_counts() -> dict[str, str]:
        page.goto(sigma_site.url("/admin/embeds/credential/"))
        rows = page.locator("#result_list tbody tr")
        return {
            rows.nth(i).locator("th").inner_text(): rows.nth(i)
            .locator(".field-embeds_link")
            .inner_text()
            for i in range(rows.count())
        }

    def alice_uses(client_id: str) -> None:
        for embed in embeds:
            src = alice_sees_embed(alice, sigma_site, embed.slug)
            token = src.split(":jwt=")[1].split("&")[0]
            # The emulator accepted it (alice's page rendered); signed with this kid.
            assert jwt.get_unverified_header(token)["kid"] == client_id

    alice_uses(old.client_id)

    # Step 1: add the new credential; nothing uses it yet.
    add_credential(page, sigma_site, name="Rotated credential", client_id=NEW_CLIENT_ID)
    assert credential_embed_counts() == {"Demo (local emulator)": "2", "Rotated credential": "0"}
    alice_uses(old.client_id)

    # Step 2: switch every embed to the new credential (bulk action on embeds).
    new = Credential.objects.get(client_id=NEW_CLIENT_ID)
    page.goto(sigma_site.url("/admin/embeds/embed/"))
    run_action(page, pks=[e.pk for e in embeds], action="switch_credential")
    assert "Demo (local emulator)" in page.inner_text("table.impact")
    page.select_option("#id_credential", label=str(new))
    page.click("input[value='Sign embeds with another credential']")
    page.wait_for_load_state()
    assert "2 embeds now sign with Rotated credential" in page.inner_text("body")
    assert credential_embed_counts() == {"Demo (local emulator)": "0", "Rotated credential": "2"}
    alice_uses(new.client_id)

    # Step 3: revoke the old credential; alice is unaffected.
    page.goto(sigma_site.url("/admin/embeds/credential/"))
    run_action(page, pks=[old.pk], action="revoke_selected")
    assert "No embed signs with this credential." in page.inner_text("#content")
    page.fill("#id_reason", "Rotated to a new secret")
    page.click("input[value='Revoke credentials']")
    page.wait_for_load_state()
    alice_uses(new.client_id)

    assert page.admin_errors == []
    assert not AccessRecord.objects.filter(outcome=AccessRecord.Outcome.REFUSED).exists()
    assert AccessRecord.objects.filter(outcome=AccessRecord.Outcome.ISSUED).count() == 4 * len(
        embeds
    )
    assert browser_page.csp_violations == []
