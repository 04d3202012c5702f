"""The embed page in Chromium against the emulator on its own origin (spec §5).

Every test signs in through the real form, opens a demo embed and checks what the
page script (embeds/static/embeds/embed.js) did with Sigma's messages, and that
the browser reported no console error and no CSP violation.
"""

from __future__ import annotations

import types
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.utils import timezone

from embeds.models import AccessRecord, Embed, EmbedErrorReport
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import CANARY_SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.spec("5")]

EMBED = "/embeds/sales-overview/"

# Records every sigma:* event the page script dispatches, from the first moment.
RECORDER = """
window.__sigma = [];
["loaded", "error", "pageheight", "variables", "url", "explore", "bookmark", "remounted"]
  .forEach(function (name) {
    document.addEventListener("sigma:" + name, function (event) {
      window.__sigma.push({type: name, detail: event.detail});
    });
  });
"""


@pytest.fixture
def page(browser_page):
    browser_page.page.add_init_script(RECORDER)
    return browser_page.page


def events(page, kind: str) -> list[dict]:
    return page.evaluate("(kind) => window.__sigma.filter(e => e.type === kind)", kind)


def wait_for_event(page, kind: str, count: int = 1) -> dict:
    page.wait_for_function(
        "([kind, count]) => window.__sigma.filter(e => e.type === kind).length >= count",
        arg=[kind, count],
    )
    return events(page, kind)[count - 1]["detail"]


def iframe_src(page) -> str:
    return page.get_attribute("iframe#sigma-embed", "src")


def jti_of(url: str) -> str:
    token = parse_qs(urlsplit(url).query)[":jwt"][0]
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def emulator(page):
    return page.frame_locator("iframe#sigma-embed")


def assert_clean(browser_page) -> None:
    assert browser_page.console_errors == []
    assert browser_page.csp_violations == []


def open_embed(page, site, path: str = EMBED) -> dict:
    """Sign in as alice, open the embed and wait for workbook:loaded."""
    sign_in(page, site, "alice")
    page.goto(site.url(path))
    return wait_for_event(page, "loaded")


def test_alice_embed_loads_and_reports_loaded(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    assert urlsplit(iframe_src(page)).netloc == urlsplit(sigma_site.emulator).netloc
    emulator(page).get_by_text("Signed in as alice@example.com").wait_for()
    container = page.locator("[data-sigma-embed]")
    assert container.get_attribute("aria-busy") == "false"
    assert page.locator("[data-sigma-loading]").is_hidden()
    assert page.locator("[data-sigma-error]").is_hidden()
    # Host layout: title, navigation, the user's name, sign out.
    header = page.inner_text("header")
    assert "Alice Anders" in header and "Sign out" in header and "Home" in header
    assert page.inner_text("h1") == "Sales overview"
    assert CANARY_SECRET not in page.content()
    assert_clean(browser_page)


def test_loading_state_is_announced_until_loaded(page, sigma_site):
    sign_in(page, sigma_site, "alice")
    # Hold the emulator back so the loading state can be seen.
    page.route(f"{sigma_site.emulator}/**", lambda route: None)
    page.goto(sigma_site.url(EMBED), wait_until="domcontentloaded")
    loading = page.locator("[data-sigma-loading]")
    assert loading.get_attribute("role") == "status"
    assert loading.get_attribute("aria-live") == "polite"
    assert loading.is_visible()
    assert loading.inner_text().strip() == "Loading Sales overview…"
    assert page.get_attribute("[data-sigma-embed]", "aria-busy") == "true"


def test_responsive_height_resizes_the_iframe(browser_page, page, sigma_site):
    Embed.objects.filter(slug="sales-overview").update(responsive_height=True)
    open_embed(page, sigma_site)
    first = wait_for_event(page, "pageheight")["height"]
    assert page.evaluate("document.querySelector('#sigma-embed').style.height") == f"{first}px"
    body_height = (
        emulator(page).locator("body").evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
    )
    assert first == body_height
    for _ in range(15):
        emulator(page).locator("#add-row").click()
    target = (
        emulator(page).locator("body").evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
    )
    assert target > first
    # The frame follows the content: its rendered height becomes the body's.
    page.wait_for_function(
        "h => document.querySelector('#sigma-embed').getBoundingClientRect().height === h",
        arg=target,
    )
    assert events(page, "pageheight")[-1]["detail"]["height"] == target
    assert_clean(browser_page)


@pytest.mark.parametrize("bad_height", ["'800'", "null", "NaN", "Infinity"])
def test_page_height_ignores_non_numbers(page, sigma_site, bad_height):
    Embed.objects.filter(slug="sales-overview").update(responsive_height=True)
    open_embed(page, sigma_site)
    height = wait_for_event(page, "pageheight")["height"]
    # Posted by the real iframe window, from the real Sigma origin.
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        f"parent.postMessage({{type: 'workbook:pageheight:onchange', pageHeight: {bad_height}}},"
        f" {sigma_site.host!r})"
    )
    frame.evaluate(
        f"parent.postMessage({{type: 'workbook:pageheight:onchange', pageHeight: {height + 7}}},"
        f" {sigma_site.host!r})"
    )
    # The good value after the bad one arrives; the bad one changed nothing.
    after = wait_for_event(page, "pageheight", 2)["height"]
    assert after == height + 7
    assert len(events(page, "pageheight")) == 2


@pytest.mark.parametrize("absurd", [-5, 10, 1e9])
def test_an_absurd_page_height_is_dispatched_but_not_applied(page, sigma_site, absurd):
    Embed.objects.filter(slug="sales-overview").update(responsive_height=True)
    open_embed(page, sigma_site)
    height = wait_for_event(page, "pageheight")["height"]
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        f"parent.postMessage({{type: 'workbook:pageheight:onchange', pageHeight: {absurd}}},"
        f" {sigma_site.host!r})"
    )

    assert wait_for_event(page, "pageheight", 2) == {
        "height": None,
        "pageHeight": absurd,
        "applied": False,
    }
    assert page.evaluate("document.querySelector('#sigma-embed').style.height") == f"{height}px"


def test_page_height_without_responsive_height_is_dispatched_but_not_applied(page, sigma_site):
    open_embed(page, sigma_site)
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        f"parent.postMessage({{type: 'workbook:pageheight:onchange', pageHeight: 900}},"
        f" {sigma_site.host!r})"
    )

    assert wait_for_event(page, "pageheight") == {
        "height": None,
        "pageHeight": 900,
        "applied": False,
    }
    assert page.evaluate("document.querySelector('#sigma-embed').style.height") == ""


def test_messages_from_a_wrong_origin_or_a_foreign_window_are_ignored(
    browser_page, page, sigma_site
):
    open_embed(page, sigma_site)
    error = {"type": "workbook:error", "code": "EINVAL", "message": "forged"}
    # A real foreign window on an allowed origin: a second emulator frame (no token),
    # whose error page posts workbook:error to this page.
    page.evaluate(
        """(src) => new Promise(resolve => {
            const f = document.createElement('iframe');
            f.src = src; f.id = 'intruder'; f.onload = () => resolve();
            document.body.appendChild(f);
        })""",
        f"{sigma_site.emulator}/demo-org/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA",
    )
    # The page itself (wrong origin, wrong window).
    page.evaluate("(msg) => window.postMessage(msg, '*')", error)
    # Synthetic events isolating each check: right window + wrong origin, and
    # right origin + wrong window.
    page.evaluate(
        """([msg, origin]) => {
            const frame = document.querySelector('#sigma-embed').contentWindow;
            window.dispatchEvent(new MessageEvent('message',
                {data: msg, origin: 'https://evil.example', source: frame}));
            window.dispatchEvent(new MessageEvent('message',
                {data: msg, origin: origin, source: window}));
            window.dispatchEvent(new MessageEvent('message',
                {data: {type: 'url:onchange', url: '/checked'}, origin: origin, source: frame}));
        }""",
        [error, sigma_site.emulator],
    )
    # The last, well-formed event is handled: the checks above really ran.
    assert wait_for_event(page, "url")["url"] == "/checked"
    assert events(page, "error") == []
    assert page.locator("[data-sigma-error]").is_hidden()
    assert EmbedErrorReport.objects.count() == 0
    # The intruder's own 401 page is the only complaint the browser may have.
    assert [e for e in browser_page.console_errors if "401" not in e] == []
    assert browser_page.csp_violations == []


def test_pushed_control_value_reaches_the_emulator_and_comes_back(browser_page, page, sigma_site):
    embed = Embed.objects.get(slug="sales-overview")
    embed.controls.create(
        control_id="Region", type="list", default_value="West", allow_from_query=True
    )
    loaded = open_embed(page, sigma_site, EMBED + "?Region=North,South%20East&other=1")
    # Query value for the allowlisted control; commas literal in the URL.
    assert loaded["variables"] == {"Region": "North,South East"}
    assert "&Region=North,South%20East" in iframe_src(page)
    assert "other=" not in iframe_src(page)
    sent = page.evaluate("SigmaEmbed.get().updateVariables({Region: ['East', 'Central']})")
    assert sent is True
    changed = wait_for_event(page, "variables")
    assert changed["variables"] == {"Region": "East,Central"}
    emulator(page).locator("#control-values").get_by_text("East,Central").wait_for()
    assert_clean(browser_page)


def test_expired_token_shows_a_readable_error_and_retry_recovers(
    browser_page, page, sigma_site, monkeypatch
):
    from embeds.issuing import issue

    past = timezone.now() - timedelta(hours=2)
    monkeypatch.setattr(issue, "timezone", types.SimpleNamespace(now=lambda: past))
    sign_in(page, sigma_site, "alice")
    page.goto(sigma_site.url(EMBED))
    # The first error re-mounts on its own; the refreshed token (signed with the
    # same stale clock) fails too, and the user sees the readable error.
    first = wait_for_event(page, "error")
    assert first == {"code": "EINVAL", "message": "exp cannot be in the past", "recovering": True}
    second = wait_for_event(page, "error", 2)
    assert second["recovering"] is False
    box = page.locator("[data-sigma-error]")
    box.wait_for()
    assert box.get_attribute("role") == "alert"
    assert page.inner_text("[data-sigma-error-title]") == "Sigma could not open this content"
    # Plain words and the code for the viewer; Sigma's developer text ("exp cannot
    # be in the past") only in the error report below.
    assert page.inner_text("[data-sigma-error-message]") == (
        "Sigma did not accept this site's sign-in for this content."
    )
    assert page.inner_text("[data-sigma-error-hint]") == (
        "Try again. If it keeps happening, tell an administrator of this site the "
        "code below: they can see the details in the site's error reports."
    )
    assert page.inner_text("[data-sigma-error-code]") == "EINVAL"
    assert "exp cannot be in the past" not in page.inner_text("main")
    # Focus moved to the error.
    assert page.evaluate("document.activeElement.hasAttribute('data-sigma-error')")
    assert AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-error.png"))
    # Both errors were reported to the server, without any token.
    reports = _wait_for_reports(page, 2)
    assert [(r.code, r.message, r.user.username) for r in reports] == [
        ("EINVAL", "exp cannot be in the past", "alice")
    ] * 2

    # Try again while the clock is still wrong: the button shows progress, then the
    # error says it was tried again.
    retry = box.get_by_role("button", name="Try again")
    retry.click()
    page.wait_for_function("() => !document.querySelector('[data-sigma-error-retried]').hidden")
    assert page.inner_text("[data-sigma-error-retried]").startswith("Tried again at ")
    assert page.inner_text("[data-sigma-error-retried]").endswith(": still not available.")
    assert retry.is_enabled() and retry.inner_text() == "Try again"

    monkeypatch.undo()
    retry.click()
    wait_for_event(page, "loaded")
    assert box.is_hidden()
    # 1 automatic, then per click: the retry and (its URL spent too) one automatic.
    assert AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).count() == 4
    emulator(page).get_by_text("Signed in as alice@example.com").wait_for()
    # The iframe's 401 document loads are the only console complaints.
    assert [e for e in browser_page.console_errors if "401" not in e] == []
    assert browser_page.csp_violations == []


def _wait_for_reports(page, count: int) -> list[EmbedErrorReport]:
    for _ in range(50):
        reports = list(EmbedErrorReport.objects.order_by("id").select_related("user"))
        if len(reports) >= count:
            return reports
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {count} error reports, got {len(reports)}")


def test_replayed_url_is_recovered_through_the_refresh_endpoint(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    spent = iframe_src(page)
    # Mount the spent URL again, as a restored frame would.
    page.evaluate("(url) => SigmaEmbed.get().mount(url, 3600, '')", spent)
    error = wait_for_event(page, "error")
    assert error["recovering"] is True
    assert "already been used" in error["message"]
    assert wait_for_event(page, "remounted")["reason"] == "expired"
    wait_for_event(page, "loaded", 2)
    fresh = iframe_src(page)
    assert jti_of(fresh) != jti_of(spent)
    assert page.locator("[data-sigma-error]").is_hidden()
    record = AccessRecord.objects.get(source=AccessRecord.Source.REFRESH)
    assert record.jti == jti_of(fresh) and record.user.username == "alice"
    assert _wait_for_reports(page, 1)[0].code == "EINVAL"
    assert [e for e in browser_page.console_errors if "401" not in e] == []
    assert browser_page.csp_violations == []


def test_refresh_reopens_the_exploration_sigma_reported(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    frame = page.frame(url=lambda url: url.startswith(sigma_site.emulator))
    frame.evaluate(
        "origin => parent.postMessage("
        "{type: 'workbook:exploreKey:onchange', exploreKey: 'exp-42_a'}, origin)",
        sigma_site.host,
    )
    assert wait_for_event(page, "explore") == {"exploreKey": "exp-42_a"}
    page.evaluate("SigmaEmbed.get().refresh('test')")
    wait_for_event(page, "loaded", 2)
    assert iframe_src(page).endswith("&:explore=exp-42_a")
    options = emulator(page).locator("#interface-options")
    options.get_by_text(":explore").wait_for()
    assert "exp-42_a" in options.inner_text()
    assert_clean(browser_page)


def test_returning_after_the_token_lifetime_mounts_a_fresh_url(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    spent = jti_of(iframe_src(page))
    # Within the lifetime, coming back changes nothing.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert page.evaluate("SigmaEmbed.get().pending") is None  # no refresh started
    assert page.locator("[data-sigma-loading]").is_hidden()
    # Past it (the deadline is moved instead of the clock), the page re-mounts.
    page.evaluate("SigmaEmbed.get().deadline = Date.now() - 1")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert wait_for_event(page, "remounted")["reason"] == "returned"
    wait_for_event(page, "loaded", 2)
    assert jti_of(iframe_src(page)) != spent
    assert AccessRecord.objects.filter(source=AccessRecord.Source.REFRESH).count() == 1
    assert_clean(browser_page)


def test_back_navigation_never_reuses_a_spent_url(browser_page, page, sigma_site):
    open_embed(page, sigma_site)
    first = jti_of(iframe_src(page))
    page.click("text=Your analytics")
    page.wait_for_url(sigma_site.url("/"))
    page.go_back()
    wait_for_event(page, "loaded")
    emulator(page).get_by_text("Signed in as alice@example.com").wait_for()
    assert jti_of(iframe_src(page)) != first
    assert events(page, "error") == []
    assert EmbedErrorReport.objects.count() == 0
    assert_clean(browser_page)


def test_bob_sees_the_refusal_page(browser_page, page, sigma_site):
    sign_in(page, sigma_site, "bob")
    response = page.goto(sigma_site.url(EMBED))
    assert response.status == 403
    refusal = page.locator("[data-refusal]")
    assert refusal.get_attribute("data-refusal") == "no_team"
    assert "You are not in a team that may view this content." in refusal.inner_text()
    assert page.locator("iframe").count() == 0
    assert [e for e in browser_page.console_errors if "403" not in e] == []
    assert browser_page.csp_violations == []


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_embed_page_fits_desktop_and_phone(browser_page, page, sigma_site, name, viewport):
    page.set_viewport_size(viewport)
    Embed.objects.filter(slug="sales-overview").update(responsive_height=True)
    open_embed(page, sigma_site)
    wait_for_event(page, "pageheight")
    # Nothing sticks out sideways, on a phone or a desktop.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    frame_box = page.locator("#sigma-embed").bounding_box()
    assert frame_box["width"] <= viewport["width"]
    assert "Sign out" in page.inner_text("header")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"embed-{name}.png"), full_page=True)
    assert_clean(browser_page)
