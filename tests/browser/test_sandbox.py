"""The sandbox test in Chromium: the host's admin preview of one embed, as two users whose
``region`` attributes differ, shows each of them only their own rows (row-level security
in the emulated organization).

Set SIGMA_ADMIN_SCREENSHOTS=1 to refresh docs/screenshots/sandbox-west.png and
sandbox-east.png (always written to test-artifacts/).
"""

from __future__ import annotations

import pytest

from embeds.models import Embed
from sigma_emulator.sample import REVENUE_CHART_ID, SALES_TABLE_ID
from tests.browser.conftest import sign_in
from tests.browser.test_admin import shot

pytestmark = pytest.mark.django_db(transaction=True)


def preview_as(page, sigma_site, embed: Embed, username: str):
    page.goto(sigma_site.url(f"/admin/embeds/embed/{embed.pk}/change/"))
    page.click("text=Preview as a user…")
    page.select_option("#id_user", label=username)
    page.click("input[value='Sign preview']")
    page.wait_for_selector("iframe#preview-frame")
    frame = page.frame_locator("iframe#preview-frame")
    frame.locator("#signed-in-as").get_by_text(f"{username}@example.com").wait_for()
    return frame


def table_rows(frame) -> list[list[str]]:
    rows = frame.locator(f"#element-{SALES_TABLE_ID} tbody tr")
    return [
        [cell.strip() for cell in rows.nth(i).inner_text().split("\t")] for i in range(rows.count())
    ]


def test_preview_as_two_regions_shows_each_user_only_their_rows(browser_page, sigma_site):
    embed = Embed.objects.get(slug="sales-overview")
    page = browser_page.page
    sign_in(page, sigma_site, "admin")
    page.set_viewport_size({"width": 1280, "height": 1300})

    seen = {}
    for username, region in (("alice", "West"), ("elena", "East")):
        frame = preview_as(page, sigma_site, embed, username)
        seen[username] = table_rows(frame)
        bars = frame.locator(f"#element-{REVENUE_CHART_ID} .bar-label").all_text_contents()
        assert frame.locator("#user-attributes").inner_text().split()[-1] == region
        seen[username + " bars"] = bars
        page.locator("#preview-frame").scroll_into_view_if_needed()
        # Scroll inside the frame too, so the table and the chart are in the picture.
        frame.locator(f"#element-{SALES_TABLE_ID}").scroll_into_view_if_needed()
        shot(page, f"sandbox-{region.lower()}.png", full_page=False)

    assert seen["alice"] == [["West", "Widgets", "1200"], ["West", "Gadgets", "800"]]
    assert seen["elena"] == [["East", "Widgets", "950"], ["East", "Gizmos", "400"]]
    assert seen["alice bars"] == ["Gadgets", "Widgets"]
    assert seen["elena bars"] == ["Gizmos", "Widgets"]
    assert browser_page.csp_violations == []
