"""The viewer's pages as they fit a screen (issue 22): the frame on a phone without a
scroll inside a scroll, the home list with content that cannot open, and a frame the
browser refuses to show explained instead of "Loading…" forever."""

from __future__ import annotations

import pytest

from embeds import services
from embeds.models import Credential, Embed
from tests.browser.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
EMBED = "/embeds/sales-overview/"


def emulator_frame(page, site):
    return page.frame(url=lambda url: url.startswith(site.emulator))


def wait_until_loaded(page):
    page.wait_for_selector("[data-sigma-embed].is-loaded")


def scroll_heights(page, site) -> dict[str, int]:
    """The page's and the frame's document: how tall, and how much shows."""
    outer = page.evaluate(
        "() => ({scroll: document.documentElement.scrollHeight, view: window.innerHeight})"
    )
    inner = emulator_frame(page, site).evaluate(
        "() => ({scroll: document.documentElement.scrollHeight,"
        " view: document.documentElement.clientHeight})"
    )
    return {
        "page": outer["scroll"],
        "page_view": outer["view"],
        "frame": inner["scroll"],
        "frame_view": inner["view"],
    }


def test_phone_embed_page_fills_the_screen_without_a_second_scroll(browser_page, sigma_site):
    page = browser_page.page
    page.set_viewport_size(PHONE)
    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url(EMBED))
    wait_until_loaded(page)
    heights = scroll_heights(page, sigma_site)
    # Without responsive height the frame takes the screen below the header and
    # title: the page itself does not scroll, only the frame's content does.
    assert heights["page"] <= heights["page_view"], heights
    box = page.locator("iframe#sigma-embed").bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    assert box["height"] >= PHONE["height"] * 0.6, box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-phone-fill.png"))
    assert browser_page.csp_violations == []


def test_phone_with_responsive_height_scrolls_the_page_only(browser_page, sigma_site):
    Embed.objects.filter(slug="sales-overview").update(responsive_height=True)
    page = browser_page.page
    page.set_viewport_size(PHONE)
    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url(EMBED))
    wait_until_loaded(page)
    page.wait_for_function("() => document.querySelector('#sigma-embed').style.height !== ''")
    heights = scroll_heights(page, sigma_site)
    # The frame is as tall as its content: nothing scrolls inside it; the page
    # scrolls instead (a phone shows the rows by scrolling the page).
    assert heights["frame"] <= heights["frame_view"], heights
    assert heights["page"] > heights["page_view"], heights
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-phone-responsive.png"), full_page=True)
    assert browser_page.csp_violations == []


def test_home_marks_revoked_and_switched_off_embeds_unavailable(browser_page, sigma_site):
    page = browser_page.page
    services.revoke_credential(credential=Credential.objects.get(), reason="browser test")
    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url("/"))
    unavailable = page.locator("[data-unavailable]")
    assert unavailable.count() == Embed.objects.count() == 2
    for item in unavailable.all():
        assert "Unavailable: switched off" in item.inner_text()
    assert page.locator(".embed-list a").count() == 0

    services.activate_credential(credential=Credential.objects.get())
    Embed.objects.filter(slug="revenue-by-region").update(is_enabled=False)
    page.reload()
    assert page.locator("[data-unavailable]").all_inner_texts() == [
        "Revenue by region (one element)\nUnavailable: switched off"
    ]
    link = page.locator(".embed-list a")
    assert link.all_inner_texts() == ["Sales overview\nOpen"]
    link.click()
    wait_until_loaded(page)


def test_a_frame_the_emulator_refuses_to_be_framed_in_says_why(browser_page, sigma_site, settings):
    # The emulator lets no origin frame it: the browser shows its own error page in
    # the frame, and Sigma's script never runs.
    settings.SIGMA_EMULATOR_FRAME_ANCESTORS = []
    page = browser_page.page
    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url(EMBED))
    page.wait_for_selector("iframe#sigma-embed")
    page.evaluate(
        """() => { const embed = SigmaEmbed.get('sales-overview');
                   embed.loadTimeout = 1500; embed.refresh('test'); }"""
    )
    error = page.locator("[data-sigma-error]")
    error.wait_for(timeout=15000)
    assert page.inner_text("[data-sigma-error-title]") == "The content did not start"
    assert sigma_site.host in page.inner_text("[data-sigma-error-message]")
    assert page.inner_text("[data-sigma-error-hint]") == (
        f"With the local Sigma emulator, add {sigma_site.host} to "
        "SIGMA_EMULATOR_FRAME_ANCESTORS and restart it."
    )
    assert page.inner_text("[data-sigma-error-code]") == "frame_not_started"
    assert page.locator("[data-sigma-loading]").is_hidden()
