"""The embedded content: real rows and bars, row-level security, controls, sharing, options."""

from __future__ import annotations

import re
from http import HTTPStatus
from types import SimpleNamespace

import pytest

from sigma_emulator.content import can_view, control_filters, resolve
from sigma_emulator.models import Member, Team, Workbook
from sigma_emulator.sample import DATA_MODEL_URL_ID, REVENUE_CHART_ID, SALES_TABLE_ID
from sigma_emulator.verify import MSG_INTERNAL_USER_CLAIMS, MSG_INVALID_PATH
from sigma_emulator.views import MSG_NOT_SHARED, MSG_UNKNOWN_ACCOUNT_TYPE
from tests.emulator.conftest import MISSING, WORKBOOK_PATH, claims, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "emulator_credential")]


def open_embed(client, path=WORKBOOK_PATH, extra="", **overrides):
    return client.get(f"{path}?:jwt={make_token(claims(**overrides))}&:embed=true{extra}")


def table_rows(html: str, element_id: str) -> list[list[str]]:
    figure = re.search(rf'<figure[^>]*id="element-{re.escape(element_id)}".*?</figure>', html, re.S)
    assert figure, f"element {element_id} is on the page"
    body = re.search(r"<tbody>(.*?)</tbody>", figure.group(0), re.S)
    assert body
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def bar_labels(html: str, element_id: str) -> list[str]:
    figure = re.search(rf'<figure[^>]*id="element-{re.escape(element_id)}".*?</figure>', html, re.S)
    assert figure
    return re.findall(r'<text[^>]*class="bar-label">(.*?)</text>', figure.group(0))


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("West", [["West", "Widgets", "1200"], ["West", "Gadgets", "800"]]),
        ("East", [["East", "Widgets", "950"], ["East", "Gizmos", "400"]]),
    ],
)
def test_rows_follow_the_region_user_attribute(emulator_client, region, expected):
    response = open_embed(emulator_client, user_attributes={"region": region})

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert table_rows(html, SALES_TABLE_ID) == expected


def test_chart_draws_one_bar_per_product_of_the_visible_rows(emulator_client):
    html = open_embed(emulator_client, user_attributes={"region": "East"}).content.decode()

    assert bar_labels(html, REVENUE_CHART_ID) == ["Gizmos", "Widgets"]
    assert "<title>Widgets: 950</title>" in html
    assert '<svg class="bar-chart"' in html


def test_no_region_and_no_default_shows_no_data(emulator_client):
    html = open_embed(emulator_client, user_attributes={}).content.decode()

    assert table_rows(html, SALES_TABLE_ID) == [["No data"]]
    assert '<p class="no-data">No data</p>' in html


def test_control_values_narrow_the_rows_within_row_level_security(emulator_client):
    html = open_embed(
        emulator_client,
        extra="&Region=East,Central",
        user_attributes={"region": "East"},
    ).content.decode()
    assert table_rows(html, SALES_TABLE_ID) == [
        ["East", "Widgets", "950"],
        ["East", "Gizmos", "400"],
    ]

    html = open_embed(
        emulator_client, extra="&Region=Central", user_attributes={"region": "East"}
    ).content.decode()
    assert table_rows(html, SALES_TABLE_ID) == [["No data"]]


def test_element_embed_shows_only_that_element(emulator_client):
    html = open_embed(
        emulator_client, WORKBOOK_PATH + f"/element/{REVENUE_CHART_ID}"
    ).content.decode()

    assert f'id="element-{REVENUE_CHART_ID}"' in html
    assert f'id="element-{SALES_TABLE_ID}"' not in html


def test_page_embed_shows_that_page(emulator_client):
    html = open_embed(emulator_client, WORKBOOK_PATH + "/page/3LYCS8UtIU").content.decode()

    assert 'id="page-3LYCS8UtIU"' in html
    assert 'id="page-GHs4vJQxig"' not in html
    assert table_rows(html, "Pq8Lm3Zt0w") == [
        ["SO-1001", "West", "Acme Corp", "420"],
        ["SO-1003", "West", "Initech", "150"],
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/other-org/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA",
        "/acme/workbook/Sales-Overview-0000000000000000000000",
        WORKBOOK_PATH + "/page/NoSuchPage",
        WORKBOOK_PATH + "/element/NoSuchElem",
    ],
)
def test_content_the_organization_does_not_have_is_enoent(emulator_client, path):
    response = open_embed(emulator_client, path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert MSG_INVALID_PATH in response.content.decode()


def test_workbook_not_shared_with_the_users_teams_is_eacces(emulator_client):
    """Sigma's JWT error page: EACCES, "The embedded workbook is not shared"."""
    Team.objects.create(name="Marketing West")

    response = open_embed(emulator_client, teams=["Marketing West"])

    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert MSG_NOT_SHARED in html
    assert '<code id="error-code">EACCES</code>' in html
    assert '"code": "EACCES"' in html  # the workbook:error event the page posts


def test_unknown_account_type_is_refused(emulator_client):
    response = open_embed(emulator_client, account_type="Viewer")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert MSG_UNKNOWN_ACCOUNT_TYPE in response.content.decode()


def test_first_load_creates_the_embed_user_with_the_tokens_teams(emulator_client):
    Team.objects.create(name="Sales West")
    open_embed(emulator_client, sub="New.User@example.com", teams=["Sales", "Sales West"])

    member = Member.objects.get(email="new.user@example.com")
    assert member.kind == Member.Kind.EMBED
    assert member.account_type.name == "View"
    assert sorted(member.teams.values_list("name", flat=True)) == ["Sales", "Sales West"]

    # Sigma updates membership when different teams are sent (spec §1.2).
    open_embed(emulator_client, sub="new.user@example.com", teams=["Sales"])
    assert list(member.teams.values_list("name", flat=True)) == ["Sales"]


# What a token for an internal member carries: none of the embed-user claims.
INTERNAL = {"sub": "analyst@example.com", "account_type": MISSING, "teams": MISSING}
INTERNAL["user_attributes"] = MISSING


def test_internal_member_sees_a_workbook_through_their_own_teams(emulator_client):
    workbook = Workbook.objects.get()
    analyst = Member.objects.get(email="analyst@example.com")

    refused = open_embed(emulator_client, **INTERNAL)
    workbook.shared_with.get(name="Sales").members.add(analyst)
    allowed = open_embed(emulator_client, **INTERNAL)

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert MSG_NOT_SHARED in refused.content.decode()
    assert allowed.status_code == HTTPStatus.OK
    assert Member.objects.get(email="analyst@example.com").kind == Member.Kind.INTERNAL


@pytest.mark.parametrize(
    "claim",
    [
        {"teams": ["Sales"]},
        {"account_type": "View"},
        {"user_attributes": {"region": "West"}},
        {"first_name": "Ana", "last_name": "Lyst"},
    ],
)
def test_internal_member_token_with_embed_user_claims_is_refused_without_a_code(
    emulator_client, claim
):
    """Sigma: "Cannot update account type for internal users", a message without a
    code, so the page posts no workbook:error; the member is left unchanged."""
    analyst = Member.objects.get(email="analyst@example.com")
    Workbook.objects.get().shared_with.get(name="Sales").members.add(analyst)
    before = (analyst.kind, analyst.account_type.name, analyst.first_name, analyst.last_name)

    response = open_embed(emulator_client, **{**INTERNAL, **claim})

    html = response.content.decode()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert MSG_INTERNAL_USER_CLAIMS.replace("'", "&#x27;") in html
    assert 'id="error-code"' not in html
    assert "sigma-emulator-data" not in html and "emulator.js" not in html
    analyst.refresh_from_db()
    after = (analyst.kind, analyst.account_type.name, analyst.first_name, analyst.last_name)
    assert after == before and before[:2] == (Member.Kind.INTERNAL, "Build")
    assert list(analyst.teams.values_list("name", flat=True)) == ["Sales"]


def test_interface_options_are_applied(emulator_client):
    # Sigma's JWT parameter table: no menu_position means none.
    assert 'id="sigma-menu"' not in open_embed(emulator_client).content.decode()
    default = open_embed(emulator_client, extra="&:menu_position=bottom").content.decode()
    assert '<body class="content theme-Light">' in default
    assert 'class="sigma-menu menu-bottom"' in default
    assert 'id="workbook-menu"' in default
    assert 'id="folder-navigation"' in default
    assert "<title>Widgets: 1200</title>" in default

    options = "&:theme=Dark&:menu_position=top&:hide_menu=true"
    options += "&:hide_folder_navigation=true&:hide_tooltip=true"
    html = open_embed(emulator_client, extra=options).content.decode()
    assert '<body class="content theme-Dark">' in html
    assert 'class="sigma-menu menu-top"' in html
    assert 'id="workbook-menu"' not in html
    assert 'id="folder-navigation"' not in html
    assert "<title>Widgets: 1200</title>" not in html

    hidden = open_embed(emulator_client, extra="&:menu_position=none").content.decode()
    assert 'id="sigma-menu"' not in hidden


def test_the_2025_2026_interface_options_are_applied(emulator_client):
    default = open_embed(emulator_client, extra="&:menu_position=top").content.decode()
    for shown in ("menu-saved-views", "menu-save-as", "menu-schedule", "menu-send"):
        assert f'id="{shown}"' in default
    assert 'id="explore-toggle"' in default
    assert "data-element-menu=" in default
    assert 'id="language"' not in default

    options = "&:menu_position=top&:hide_bookmarks=true&:hide_explore_toggle=true"
    options += "&:hide_element_interactions=true"
    options += "&:hide_schedule=true&:hide_send=true&:hide_save_as=true"
    options += "&:lng=fr-ca&:lng_variant=Custom%20Qu%C3%A9b%C3%A9cois"
    html = open_embed(emulator_client, extra=options).content.decode()
    for hidden in ("menu-saved-views", "menu-save-as", "menu-schedule", "menu-send"):
        assert f'id="{hidden}"' not in html
    assert 'id="explore-toggle"' not in html
    assert "data-element-menu=" not in html
    assert '<span id="language-lng">fr-ca</span>' in html
    assert '<span id="language-variant">Custom Québécois</span>' in html


def test_lng_variant_without_lng_is_not_applied(emulator_client):
    html = open_embed(emulator_client, extra="&:lng_variant=Custom").content.decode()

    assert 'id="language"' not in html


def test_options_outside_sigmas_jwt_table_are_shown_as_ignored(emulator_client):
    extra = "&:hide_title=true&:hide_page_controls=true&:hide_menu=true&:disable_mobile_view=true"
    html = open_embed(emulator_client, extra=extra).content.decode()

    assert 'class="page-title"' in html  # hide_title changes nothing
    assert 'id="page-tabs"' not in html  # hide_page_controls has a Sigma source
    ignored = "ignored: not in Sigma's JWT parameter table"
    for name in (":hide_title",):
        assert f'<td>{name}</td><td>true</td><td class="option-status">{ignored}</td>' in html
    for name in (":hide_menu", ":disable_mobile_view", ":hide_page_controls"):
        assert f'<td>{name}</td><td>true</td><td class="option-status">applied</td>' in html


def test_control_filters_take_raw_values_or_typed_readings():
    workbook = Workbook.objects.get()

    assert control_filters(workbook, {"Region": "East,:empty"}) == {"Region": {"East", ""}}
    assert control_filters(workbook, {"Region": ":null", "Other": "x"}) == {}
    reading = SimpleNamespace(values=["Smith, John"])
    assert control_filters(workbook, {"Region": reading}) == {"Region": {"Smith, John"}}


def test_resolve_names_data_models_and_ask_sigma_for_typed_content_paths():
    def path(document, workbook_id=""):
        return SimpleNamespace(
            org="acme", workbook_id=workbook_id, document=document, page_id=None, element_id=None
        )

    model = resolve(path("data-model", DATA_MODEL_URL_ID))
    ask = resolve(path("ask"))

    assert (model.kind, model.name, model.data_model.url_id) == (
        "data-model",
        "Sales model",
        DATA_MODEL_URL_ID,
    )
    assert resolve(path("data-model", "0" * 22)) is None
    assert (ask.kind, ask.name) == ("ask", "Ask Sigma")
    assert can_view(model, None, {"teams": ["Sales"]})
    assert not can_view(model, None, {"teams": ["Marketing"]})
    assert can_view(ask, None, {})
