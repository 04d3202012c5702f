"""embed.js's API and DOM events against the emulator, in Chromium (docs/embed-js.md).

Each test drives the page only through ``window.SigmaEmbed`` and the emulator's own
buttons, and checks both sides: the DOM event the host page gets and what the
emulator (standing in for Sigma) shows. No console error, no CSP violation.
"""

from __future__ import annotations

import pytest

from embeds.models import AccessRecord, Embed, EmbedControl
from tests.browser.conftest import sign_in
from tests.browser.test_embed_page import iframe_src, jti_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.spec("5")]

EMBED = "/embeds/sales-overview/"
WORKBOOK_ID = "4bq2ZtkLmV8xWn3pRs6HyA"

# Records every sigma:* event through sigma:message, plus the few the script
# dispatches without a Sigma message behind them.
RECORDER = """
window.__sigma = [];
document.addEventListener("sigma:message", function (event) {
  window.__sigma.push({type: event.detail.type, detail: event.detail.detail});
});
["sigma:bookmark", "sigma:remounted"].forEach(function (name) {
  document.addEventListener(name, function (event) {
    window.__sigma.push({type: name, detail: event.detail});
  });
});
"""


@pytest.fixture
def page(browser_page):
    browser_page.page.add_init_script(RECORDER)
    return browser_page.page


def events(page, kind: str) -> list[dict]:
    return page.evaluate(
        "(kind) => window.__sigma.filter(e => e.type === kind).map(e => e.detail)", kind
    )


def wait_for(page, kind: str, count: int = 1) -> dict:
    page.wait_for_function(
        "([kind, count]) => window.__sigma.filter(e => e.type === kind).length >= count",
        arg=[kind, count],
    )
    return events(page, kind)[count - 1]


def api(page, call: str, arg=None):
    """Run ``SigmaEmbed.get('sales-overview').<call>`` with ``arg`` bound to ``arg``."""
    return page.evaluate(f"(arg) => SigmaEmbed.get('sales-overview').{call}", arg)


def emulator(page):
    return page.frame_locator("iframe#sigma-embed")


def state(page, name: str) -> str:
    return emulator(page).locator(f"#state-{name}").inner_text()


def open_embed(page, site, path: str = EMBED) -> None:
    sign_in(page, site, "alice")
    page.goto(site.url(path))
    wait_for(page, "workbook:loaded")


def assert_clean(browser_page) -> None:
    assert browser_page.console_errors == []
    assert browser_page.csp_violations == []


def test_bookmarks_are_created_updated_selected_and_deleted_through_the_api(
    browser_page, page, sigma_site
):
    open_embed(page, sigma_site)
    assert api(page, "createBookmark({name: 'Q3 West', isShared: true})") is True
    created = wait_for(page, "workbook:bookmark:oncreate")
    bookmark_id = created["bookmarkId"]
    assert created == {
        "bookmarkId": bookmark_id,
        "bookmarkName": "Q3 West",
        "workbookId": WORKBOOK_ID,
        "versionTagName": None,
    }
    assert wait_for(page, "sigma:bookmark")["bookmarkId"] == bookmark_id
    emulator(page).locator(f"#bookmarks [data-bookmark-id='{bookmark_id}']").wait_for()
    assert emulator(page).locator("#bookmarks").inner_text() == "Q3 West (shared)"
    assert state(page, "bookmark") == f"Q3 West ({bookmark_id})"

    # Nothing explored since it was saved: Sigma's documented error, reported by
    # code; the content stays, nothing is re-mounted.
    api(page, "updateBookmark()")
    error = wait_for(page, "workbook:error")
    assert error == {
        "code": "EINVAL",
        "message": "Cannot update bookmark, no explore changes made",
        "recovering": False,
    }
    assert page.locator("[data-sigma-error]").is_hidden()
    api(page, "updateVariables({Region: 'East'})")
    wait_for(page, "workbook:variables:onchange")
    api(page, "updateBookmark()")
    updated = wait_for(page, "workbook:bookmark:onupdate")
    assert updated["bookmarkId"] == bookmark_id and updated["workbookId"] == WORKBOOK_ID

    # Deselect, then select it again.
    api(page, "selectBookmark(null)")
    assert wait_for(page, "workbook:bookmark:onchange")["bookmarkId"] is None
    assert state(page, "bookmark") == "None"
    api(page, "selectBookmark(arg)", bookmark_id)
    assert wait_for(page, "workbook:bookmark:onchange", 2)["bookmarkName"] == "Q3 West"

    # A re-mount re-opens it.
    page.evaluate("SigmaEmbed.get('sales-overview').refresh('test')")
    wait_for(page, "workbook:loaded", 2)
    assert iframe_src(page).endswith(f"&:bookmark={bookmark_id}")
    assert state(page, "bookmark") == f"Q3 West ({bookmark_id})"

    # Deleting the current bookmark forgets it: the next re-mount asks for nothing.
    assert api(page, "deleteBookmark(arg)", bookmark_id) is True
    deleted = wait_for(page, "workbook:bookmark:ondelete")
    assert deleted["bookmarkId"] == bookmark_id and deleted["bookmarkName"] == "Q3 West"
    assert emulator(page).locator("#bookmarks li").count() == 0
    assert api(page, "place") == {"bookmark": None, "explore": None}
    page.evaluate("SigmaEmbed.get('sales-overview').refresh('test')")
    wait_for(page, "workbook:loaded", 3)
    assert ":bookmark" not in iframe_src(page)
    assert state(page, "bookmark") == "None"
    assert_clean(browser_page)


def test_bookmark_deleted_inside_sigma_is_forgotten_too(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    api(page, "createBookmark({name: 'Mine'})")
    bookmark_id = wait_for(page, "workbook:bookmark:oncreate")["bookmarkId"]
    # Sigma reports a deletion made in its own menu.
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        "([id, origin]) => parent.postMessage({type: 'workbook:bookmark:ondelete',"
        " bookmarkName: 'Mine', workbookId: 'w', versionTagName: null, bookmarkId: id}, origin)",
        [bookmark_id, sigma_site.host],
    )
    wait_for(page, "workbook:bookmark:ondelete")
    assert events(page, "sigma:bookmark")[-1]["bookmarkId"] is None
    assert api(page, "place") == {"bookmark": None, "explore": None}
    assert_clean(browser_page)


def test_variables_are_updated_and_listed_through_the_api(browser_page, page, sigma_site):
    embed = Embed.objects.get(slug="sales-overview")
    embed.controls.create(control_id="Region", default_value="West", allow_from_query=True)
    open_embed(page, sigma_site)
    assert api(page, "listVariables()") == {"Region": "West"}
    assert wait_for(page, "workbook:variables:current") == {"variables": {"Region": "West"}}
    assert api(page, "updateVariables({Region: ['East', 'North'], Year: '2024'})") is True
    changed = wait_for(page, "workbook:variables:onchange")
    assert changed == {"variables": {"Region": "East,North", "Year": "2024"}}
    emulator(page).locator("#control-values").get_by_text("East,North").wait_for()
    # Sigma's answer reflects the update.
    assert api(page, "listVariables()") == {"Region": "East,North", "Year": "2024"}
    with pytest.raises(Exception, match="a value is a string or a list of strings"):
        api(page, "updateVariables({Region: 5})")
    assert_clean(browser_page)


def test_outbound_action_and_selections_in_sigma_become_dom_events(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    page.evaluate(
        """() => SigmaEmbed.get('sales-overview').on('action', function (detail) {
            window.__action = detail;
        })"""
    )
    frame = emulator(page)
    frame.locator("#action-outbound").click()
    assert wait_for(page, "action:outbound") == {
        "name": "open-account",
        "values": {"Account ID": "ACME-001", "Region": ""},
    }
    # on() hands the same detail to its callback.
    assert page.evaluate("window.__action.name") == "open-account"

    frame.locator("#select-cell").click()
    cell = wait_for(page, "workbook:table:oncellselect")
    assert (cell["nodeId"], cell["title"]) == ("table-1", "Revenue by region")
    assert cell["cells"][0]["cellType"] == "valueCell"
    assert cell["cells"][0]["underlyingData"]["rows"] == [{"Region": "West", "Revenue": 1250}]
    frame.locator("#select-pivot-cell").click()
    pivot = wait_for(page, "workbook:pivottable:oncellselect")
    assert pivot["cells"][0]["columnPath"] == [{"name": "Quarter", "value": "Q3"}]
    frame.locator("#select-chart-value").click()
    chart = wait_for(page, "workbook:chart:onvalueselect")
    assert chart == {
        "nodeId": "chart-1",
        "title": "Revenue chart",
        "values": [{"Region": "West", "Revenue": 1250}],
    }
    frame.locator("#maximize").click()
    assert wait_for(page, "workbook:fullscreen:onchange") == {"fullScreen": True}
    frame.locator("#select-page").click()
    assert wait_for(page, "workbook:selectednodeid:onchange") == {
        "selectedNodeId": "page-2",
        "nodeType": "page",
    }
    frame.locator("#publish").click()
    assert wait_for(page, "workbook:published") == {"workbookId": WORKBOOK_ID}
    frame.locator("#explore").click()
    explore_key = wait_for(page, "workbook:exploreKey:onchange")["exploreKey"]
    assert api(page, "place")["explore"] == explore_key
    assert wait_for(page, "workbook:dataloaded") == {}
    assert_clean(browser_page)


def test_clicks_on_the_workbook_post_cell_and_page_selections(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    frame = emulator(page)
    table = frame.locator("figure.element-table").first
    node_id = table.get_attribute("id").removeprefix("element-")
    title = table.locator("figcaption").inner_text()
    # alice's region is West (row-level security): her first row is West / Widgets.
    table.locator("tbody tr").first.locator("td").nth(2).click()
    cell = wait_for(page, "workbook:table:oncellselect")
    assert cell == {
        "nodeId": node_id,
        "title": title,
        "cells": [
            {
                "value": 1200,
                "cellType": "valueCell",
                "columnName": "Revenue",
                "underlyingData": {
                    "rows": [{"Region": "West", "Product": "Widgets", "Revenue": 1200}],
                    "isTruncated": False,
                    "length": 1,
                },
            }
        ],
    }
    second_page = frame.locator("section.sigma-page").nth(1).get_attribute("id")
    frame.locator("#page-tabs li").nth(1).click()
    assert wait_for(page, "workbook:selectednodeid:onchange") == {
        "selectedNodeId": second_page.removeprefix("page-"),
        "nodeType": "page",
    }
    assert_clean(browser_page)


def test_host_messages_change_what_sigma_shows(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    api(page, "toggleFullscreen('chart-1')")
    assert wait_for(page, "workbook:fullscreen:onchange") == {"fullScreen": True}
    assert state(page, "full-screen") == "chart-1"
    api(page, "toggleFullscreen('chart-1')")
    assert wait_for(page, "workbook:fullscreen:onchange", 2) == {"fullScreen": False}
    api(page, "selectNode('el-7', 'element')")
    assert wait_for(page, "workbook:selectednodeid:onchange") == {
        "selectedNodeId": "el-7",
        "nodeType": "element",
    }
    assert state(page, "selected-node") == "element el-7"
    # Sigma sets only links that match its documented patterns (a public host).
    link = "https://analytics.example.com/embeds/sales-overview/"
    assert api(page, "setSharingLink(arg)", link) is True
    emulator(page).locator("#state-sharing-link").get_by_text(link).wait_for()
    api(page, "setMode('explore')")
    emulator(page).locator("#state-mode").get_by_text("explore").wait_for()
    api(page, "toggleModal('export')")
    emulator(page).locator("#state-modal").get_by_text("export").wait_for()
    for bad in (
        "setSharingLink('javascript:alert(1)')",
        "setMode('build')",
        "selectNode('x', 'y')",
    ):
        with pytest.raises(Exception, match="must be"):
            api(page, bad)
    assert_clean(browser_page)


def test_edit_mode_and_the_save_as_dialog_reach_sigma(browser_page, page, sigma_site):
    # Release notes 2026-03 ("now supports edit as a mode") and 2026-02 ("accepts a
    # save-as modalType"); docs/embed-js.md.
    open_embed(page, sigma_site)
    assert api(page, "setMode('edit')") is True
    emulator(page).locator("#state-mode").get_by_text("edit").wait_for()
    assert api(page, "toggleModal('save-as')") is True
    emulator(page).locator("#state-modal").get_by_text("save-as").wait_for()
    api(page, "toggleModal()")
    emulator(page).locator("#state-modal").get_by_text("None").wait_for()
    with pytest.raises(Exception, match="must be"):
        api(page, "toggleModal('save')")
    assert_clean(browser_page)


@pytest.mark.parametrize(
    ("call", "state_name"),
    [("refreshData", "refresh"), ("navigateTo", "navigate"), ("downloadReport", "download")],
)
def test_refresh_navigate_and_download_send_sigmas_type_with_the_callers_fields(
    browser_page, page, sigma_site, call, state_name
):
    open_embed(page, sigma_site)
    assert api(page, f"{call}()") is True
    emulator(page).locator(f"#state-{state_name}").get_by_text("received {}").wait_for()
    assert api(page, f"{call}(arg)", {"inodeId": "abc-123", "all": True}) is True
    emulator(page).locator(f"#state-{state_name}").get_by_text(
        'received {"inodeId":"abc-123","all":true}'
    ).wait_for()
    for bad in ("'x'", "{type: 'x'}", "{'bad name': 1}", "{n: {nested: 1}}", "{n: NaN}"):
        with pytest.raises(Exception, match="field|fields"):
            api(page, f"{call}({bad})")
    assert_clean(browser_page)


def test_an_element_without_data_becomes_a_dom_event(browser_page, page, sigma_site):
    # Every region's rows are filtered out: the emulator shows "No data" and posts
    # document:element:nodata (release notes 2026-03), type only.
    embed = Embed.objects.get(slug="sales-overview")
    EmbedControl.objects.create(embed=embed, control_id="Region", default_value="Nowhere")
    open_embed(page, sigma_site)
    assert wait_for(page, "document:element:nodata") == {}
    # Whatever fields Sigma adds reach the host as top-level scalars only.
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        "origin => parent.postMessage({type: 'document:element:nodata', nodeId: 'el-1',"
        " count: 0, empty: true, none: null, nested: {a: 1}, list: [1], 'bad name': 'x',"
        " long: 'x'.repeat(2000)}, origin)",
        sigma_site.host,
    )
    page.wait_for_function(
        "() => window.__sigma.some(e => e.type === 'document:element:nodata' && e.detail.nodeId)"
    )
    injected = [d for d in events(page, "document:element:nodata") if d]
    assert injected == [
        {"nodeId": "el-1", "count": 0, "empty": True, "none": None, "long": "x" * 1000}
    ]
    assert_clean(browser_page)


def test_first_page_load_opens_the_bookmark_or_exploration_its_link_names(
    browser_page, page, sigma_site
):
    open_embed(page, sigma_site)
    api(page, "createBookmark({name: 'Saved'})")
    bookmark_id = wait_for(page, "workbook:bookmark:oncreate")["bookmarkId"]
    # A link to the page with the bookmark: the very first signed URL carries it.
    page.goto(sigma_site.url(f"{EMBED}?:bookmark={bookmark_id}"))
    wait_for(page, "workbook:loaded")
    assert iframe_src(page).endswith(f"&:bookmark={bookmark_id}")
    assert state(page, "bookmark") == f"Saved ({bookmark_id})"
    assert api(page, "place") == {"bookmark": bookmark_id, "explore": None}
    assert not AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).exists()

    # Deleting it also drops it from the page's own address: a reload asks for nothing.
    api(page, "deleteBookmark(arg)", bookmark_id)
    wait_for(page, "workbook:bookmark:ondelete")
    assert ":bookmark" not in page.url
    page.reload()
    wait_for(page, "workbook:loaded")
    assert ":bookmark" not in iframe_src(page)

    page.goto(sigma_site.url(f"{EMBED}?:explore=ex-42_a"))
    wait_for(page, "workbook:loaded")
    assert iframe_src(page).endswith("&:explore=ex-42_a")
    assert state(page, "explore-key") == "ex-42_a"
    assert_clean(browser_page)


def fake_sigma_page(route, host: str, code: str, message: str) -> None:
    """Answer the iframe's request as Sigma would with an error and nothing else."""
    route.fulfill(
        status=200,
        content_type="text/html",
        body=(
            "<!DOCTYPE html><script>parent.postMessage({type: 'workbook:error', "
            f"code: {code!r}, message: {message!r}}}, {host!r});</script>"
        ),
    )


# Sigma's JWT error page says EACCES for content not shared with the user; its JWT
# QuickStart says EPERM for the same cause (docs/sigma-protocol.md): both alike.
@pytest.mark.parametrize("code", ["EACCES", "EPERM"])
def test_recovery_follows_the_error_code_not_its_wording(browser_page, page, sigma_site, code):
    sign_in(page, sigma_site, "alice")
    # The words of a spent URL, under a code a fresh URL cannot fix: no re-mount.
    page.route(
        f"{sigma_site.emulator}/**",
        lambda route: fake_sigma_page(
            route, sigma_site.host, code, "This embed URL has already been used (jti replay)"
        ),
    )
    page.goto(sigma_site.url(EMBED))
    assert wait_for(page, "workbook:error")["recovering"] is False
    page.locator("[data-sigma-error]").wait_for()
    assert page.inner_text("[data-sigma-error-code]") == code
    assert page.inner_text("[data-sigma-error-hint]") == (
        "Sigma does not let your account open this content. An administrator of "
        "this site can check that it is shared with your team in Sigma."
    )
    assert not AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).exists()
    assert_clean(browser_page)


def test_einval_before_loading_remounts_once_whatever_the_message(browser_page, page, sigma_site):
    sign_in(page, sigma_site, "alice")
    calls = []

    def first_fails(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            fake_sigma_page(route, sigma_site.host, "EINVAL", "Something unexpected")
        else:
            route.continue_()

    page.route(f"{sigma_site.emulator}/*/workbook/**", first_fails)
    page.goto(sigma_site.url(EMBED))
    assert wait_for(page, "workbook:error") == {
        "code": "EINVAL",
        "message": "Something unexpected",
        "recovering": True,
    }
    assert wait_for(page, "sigma:remounted") == {"reason": "expired"}
    wait_for(page, "workbook:loaded")
    assert jti_of(calls[0]) != jti_of(iframe_src(page))
    assert page.locator("[data-sigma-error]").is_hidden()
    assert AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).count() == 1
    assert_clean(browser_page)


def test_a_load_that_never_finishes_is_remounted_once(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    held = []

    def hold_first(route):
        if not held:
            held.append(route)  # never answered: the frame never loads
        else:
            route.continue_()

    page.route(f"{sigma_site.emulator}/*/workbook/**", hold_first)
    page.evaluate(
        """() => { const embed = SigmaEmbed.get('sales-overview');
                   embed.loadTimeout = 300; embed.refresh('test'); }"""
    )
    assert wait_for(page, "sigma:remounted", 2) == {"reason": "timeout"}
    wait_for(page, "workbook:loaded", 2)
    assert held and page.locator("[data-sigma-loading]").is_hidden()
    assert AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).count() == 2
    assert_clean(browser_page)


def test_payloads_are_rebuilt_and_unknown_types_dropped(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        """(origin) => {
            parent.postMessage({type: 'workbook:unknown:event', id: 'x'}, origin);
            parent.postMessage({type: 'workbook:sharinglink:update', variables: {}}, origin);
            parent.postMessage({type: 'workbook:bookmark:onchange', bookmarkId: 'a b/..',
                bookmarkName: 7, workbookId: 'w', versionTagName: null}, origin);
            parent.postMessage({type: 'action:outbound', name: 'go', values: [1, 2],
                extra: '<img src=x>'}, origin);
        }""",
        sigma_site.host,
    )
    # Undocumented fields vanish; wrong types become null or empty.
    assert wait_for(page, "action:outbound") == {"name": "go", "values": {}}
    assert events(page, "workbook:bookmark:onchange") == [
        {"bookmarkId": "a b/..", "bookmarkName": None, "workbookId": "w", "versionTagName": None}
    ]
    # A bookmark ID the server would refuse is never kept for a re-mount.
    assert api(page, "place")["bookmark"] is None
    types = page.evaluate("window.__sigma.map(e => e.type)")
    assert "workbook:unknown:event" not in types
    assert "workbook:sharinglink:update" not in types
    assert_clean(browser_page)


def test_messages_use_the_keys_of_sigmas_event_references(browser_page, page, sigma_site):
    """selectedNodeId only (Inbound reference; embed-sdk 0.7.0 fixed its nodeId), and
    variables read from workbook.variables only (Outbound reference; embed-sdk 0.6.0
    fixed its top-level type)."""
    open_embed(page, sigma_site)
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        """() => { window.__received = [];
                   window.addEventListener('message', (e) => window.__received.push(e.data)); }"""
    )
    api(page, "selectNode('el-7', 'element')")
    frame.wait_for_function("() => window.__received.length > 0")
    assert frame.evaluate("() => window.__received") == [
        {"type": "workbook:selectednodeid:update", "selectedNodeId": "el-7", "nodeType": "element"}
    ]

    before = len(events(page, "workbook:variables:onchange"))
    frame.evaluate(
        """(origin) => {
            parent.postMessage({type: 'workbook:variables:onchange',
                variables: {Region: 'Top'}}, origin);
            parent.postMessage({type: 'workbook:variables:onchange',
                workbook: {variables: {Region: 'East'}}}, origin);
        }""",
        sigma_site.host,
    )
    wait_for(page, "workbook:variables:onchange", before + 2)
    assert events(page, "workbook:variables:onchange")[before:] == [
        {"variables": {}},
        {"variables": {"Region": "East"}},
    ]
    assert_clean(browser_page)


def test_a_second_load_timeout_offers_try_again(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    held = []

    def hold_two(route):
        if len(held) < 2:
            held.append(route)  # never answered: these mounts never load
        else:
            route.continue_()

    page.route(f"{sigma_site.emulator}/*/workbook/**", hold_two)
    page.evaluate(
        """() => { const embed = SigmaEmbed.get('sales-overview');
                   embed.loadTimeout = 200; embed.refresh('test'); }"""
    )
    assert wait_for(page, "sigma:remounted", 2) == {"reason": "timeout"}
    retry = page.locator("[data-sigma-loading] [data-sigma-retry]")
    retry.wait_for()
    assert page.inner_text("[data-sigma-loading-text]") == "This is taking longer than usual…"
    # Only the one automatic re-mount: the user decides after that.
    page.wait_for_timeout(600)
    assert len(events(page, "sigma:remounted")) == 2
    assert len(held) == 2
    retry.click()
    assert wait_for(page, "sigma:remounted", 3) == {"reason": "retry"}
    wait_for(page, "workbook:loaded", 2)
    assert_clean(browser_page)
