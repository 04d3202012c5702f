"""The issue's walk-through in a real browser: alice sees her claims, bob is refused,
reload signs anew, a replayed URL is refused, and revoking switches everything off."""

from __future__ import annotations

import pytest

from embeds import services
from embeds.models import Credential
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def emulator_frame(page):
    page.wait_for_selector("iframe#sigma-embed")
    return page.frame_locator("iframe#sigma-embed")


def test_alice_sees_her_claims_and_reload_signs_a_new_token(browser_page, sigma_site):
    page = browser_page.page
    sign_in(page, sigma_site, "alice")
    page.click("text=Sales overview")
    frame = emulator_frame(page)
    body = frame.locator("body")
    body.get_by_text("alice@example.com").first.wait_for()
    text = body.inner_text()
    assert "Sales" in text and "View" in text and "West" in text
    first_src = page.get_attribute("iframe#sigma-embed", "src")

    page.reload()
    emulator_frame(page).locator("body").get_by_text("alice@example.com").first.wait_for()
    second_src = page.get_attribute("iframe#sigma-embed", "src")
    assert first_src != second_src

    # The same signed URL opened again is a replay: the emulator refuses it.
    replay = page.context.new_page()
    response = replay.goto(second_src)
    assert response.status == 401
    assert "replay" in replay.content().lower() or "already" in replay.content().lower()
    assert browser_page.csp_violations == []


def test_bob_gets_the_friendly_refusal(browser_page, sigma_site):
    page = browser_page.page
    sign_in(page, sigma_site, "bob")
    assert "no content for you yet" in page.content()
    response = page.goto(sigma_site.url("/embeds/sales-overview/"))
    assert response.status == 403
    assert "not in a team" in page.inner_text("main")
    assert "administrator" in page.inner_text("main")


def test_revoked_credential_gives_503_then_works_again(browser_page, sigma_site):
    page = browser_page.page
    sign_in(page, sigma_site, "alice")
    credential = Credential.objects.get()
    services.revoke_credential(credential=credential, reason="browser test")
    for slug in ("sales-overview", "revenue-by-region"):
        response = page.goto(sigma_site.url(f"/embeds/{slug}/"))
        assert response.status == 503
        assert "revoked" in page.inner_text("main")
    services.activate_credential(credential=credential)
    response = page.goto(sigma_site.url("/embeds/revenue-by-region/"))
    assert response.status == 200
    emulator_frame(page).locator("body").get_by_text("alice@example.com").first.wait_for()
