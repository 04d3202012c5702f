"""The 2025-2026 interface options and an open relative date range, from the host's
embed page to the emulator's reading of them, in Chromium (issue 20)."""

from __future__ import annotations

import pytest

from embeds.models import Embed, EmbedControl
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.spec("2.2")]

NEW_FLAGS = (
    "hide_bookmarks",
    "hide_explore_toggle",
    "hide_element_interactions",
    "hide_schedule",
    "hide_send",
    "hide_save_as",
)


def test_new_options_and_an_open_relative_range_are_read_as_configured(browser_page, sigma_site):
    page = browser_page.page
    embed = Embed.objects.get(slug="sales-overview")
    embed.menu_position = "top"
    embed.language = "fr-ca"
    embed.lng_variant = "Custom Québécois"
    for flag in NEW_FLAGS:
        setattr(embed, flag, True)
    embed.save()
    EmbedControl.objects.create(
        embed=embed, control_id="Period", type="date_range", default_value="min:prior-day-3,max:"
    )

    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url("/embeds/sales-overview/"))
    frame = page.frame_locator("iframe#sigma-embed")
    frame.locator("#interface-options").wait_for()
    rows = frame.locator("#interface-options tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
    )
    read = {name: (value, status) for name, value, status in rows}
    period = frame.locator('#control-readings tr[data-control="Period"]')

    for flag in NEW_FLAGS:
        assert read[f":{flag}"] == ("true", "applied")
    assert read[":lng"] == ("fr-ca", "applied")
    assert read[":lng_variant"] == ("Custom Québécois", "applied")
    assert frame.locator("#language-variant").inner_text() == "Custom Québécois"
    assert period.locator(".control-kind").inner_text() == "range"
    assert period.locator(".control-item").evaluate_all(
        "items => items.map(i => [i.dataset.end, i.textContent])"
    ) == [["min", "prior-day-3"], ["max", ""]]
    for hidden in ("#menu-saved-views", "#menu-save-as", "#menu-schedule", "#explore-toggle"):
        assert frame.locator(hidden).count() == 0
    assert browser_page.console_errors == []
    assert browser_page.csp_violations == []
