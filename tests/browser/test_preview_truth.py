"""The admin preview tells what Sigma said (issue 22): a user whose team Sigma does not
have is "Allowed" by the host's rules, Sigma refuses the token, and the banner says
so, explained by the host's remote check (embeds.R001), with the answer noted on the
preview's access record."""

from __future__ import annotations

import pytest

from embeds.models import AccessRecord, AccountType, Embed, SigmaProfile, Team
from tests.browser.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def carol(sigma_site, django_user_model, settings):
    """carol, in a team the host has and the emulated Sigma organization does not."""
    # The preview's checks ask the emulator's REST API (the demo credential has it).
    settings.SIGMA_API_BASE_URL = sigma_site.emulator
    ghosts = Team.objects.create(name="Ghosts")
    Embed.objects.get(slug="sales-overview").teams.add(ghosts)
    user = django_user_model.objects.create_user(
        "carol", "carol@example.com", "demo", first_name="Carol"
    )
    profile = SigmaProfile.objects.create(
        user=user, account_type=AccountType.objects.get(name="View")
    )
    profile.teams.set([ghosts])
    return user


def preview(page, sigma_site, username: str) -> None:
    embed = Embed.objects.get(slug="sales-overview")
    page.goto(sigma_site.url(f"/admin/embeds/embed/preview/?embed={embed.pk}"))
    page.select_option("#id_user", label=username)
    page.click("input[value='Sign preview']")
    page.wait_for_selector("iframe#preview-frame")


def test_preview_banner_says_sigma_refused_a_team_it_lacks(browser_page, sigma_site, carol):
    page = browser_page.page
    page.set_viewport_size({"width": 1280, "height": 1000})
    sign_in(page, sigma_site, "admin")
    preview(page, sigma_site, "carol")

    page.wait_for_selector("#preview-verdict.refused")
    verdict = page.inner_text("#preview-verdict")
    assert verdict == "Sigma refused it: EINVAL Invalid external_user_team"
    assert "Allowed" not in verdict
    # The host's finding that explains it: the team Sigma does not have.
    page.wait_for_selector("[data-finding='embeds.R001']")
    finding = page.inner_text("[data-finding='embeds.R001']")
    assert "Ghosts" in finding
    assert page.inner_text("#preview-sigma-status").startswith("Explained by embeds.R001: ")
    # Focus moved to the verdict.
    assert page.evaluate("document.activeElement.id") == "preview-verdict"

    record = AccessRecord.objects.get(is_preview=True, user__username="carol")
    assert (record.outcome, record.sigma_outcome, record.sigma_code) == (
        "issued",
        "error",
        "EINVAL",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-preview-refused.png"))
    assert browser_page.csp_violations == []


def test_preview_banner_says_sigma_opened_it_and_check_finds_nothing(
    browser_page, sigma_site, carol
):
    page = browser_page.page
    sign_in(page, sigma_site, "admin")
    preview(page, sigma_site, "alice")

    page.wait_for_selector("#preview-verdict.allowed >> text=Sigma opened it")
    assert page.inner_text("#preview-verdict") == "Sigma opened it: alice sees “Sales overview”"
    page.click("#preview-check")
    page.wait_for_selector("#preview-findings-list, #preview-check-clean")
    # alice's own names are all in Sigma; the one finding left is the host's team
    # Ghosts on the embed, which Sigma does not have.
    findings = page.locator("[data-finding]").all_inner_texts()
    assert [text.split(" ", 1)[0] for text in findings] == ["embeds.R001"]
    record = AccessRecord.objects.get(is_preview=True, user__username="alice")
    assert (record.sigma_outcome, record.sigma_code) == ("loaded", "")
    assert browser_page.csp_violations == []
