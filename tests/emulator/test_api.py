"""The REST API subset: OAuth client credentials, Sigma's shapes, nextPage, the test knobs."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from sigma_emulator.models import Member, Team, Workbook
from sigma_emulator.sample import CONNECTION_ID, REVENUE_CHART_ID, SALES_TABLE_ID
from sigma_emulator.services import expire_api_tokens, inject_api_fault, revoke_credential
from tests.emulator.conftest import CLIENT_ID, SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator_credential")]


def get_token(client, client_id=CLIENT_ID, secret=SECRET, grant="client_credentials"):
    return client.post(
        "/v2/auth/token",
        {"grant_type": grant, "client_id": client_id, "client_secret": secret},
    )


@pytest.fixture
def api(emulator_client):
    token = get_token(emulator_client).json()["access_token"]
    emulator_client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return emulator_client


def test_token_endpoint_issues_an_expiring_bearer_token(emulator_client, settings):
    settings.SIGMA_EMULATOR_API_TOKEN_TTL = 120

    response = get_token(emulator_client)

    body = response.json()
    assert response.status_code == HTTPStatus.OK
    assert body["token_type"] == "bearer" and body["expires_in"] == 120
    assert len(body["access_token"]) >= 40
    assert SECRET not in response.content.decode()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"secret": "wrong"}, HTTPStatus.UNAUTHORIZED, "invalid_client"),
        ({"client_id": "nobody"}, HTTPStatus.UNAUTHORIZED, "invalid_client"),
        ({"grant": "password"}, HTTPStatus.BAD_REQUEST, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refuses_bad_requests(emulator_client, kwargs, status, code):
    response = get_token(emulator_client, **kwargs)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert "access_token" not in response.json()


def test_token_endpoint_needs_the_rest_api_privilege(emulator_client, emulator_credential):
    emulator_credential.api_privilege = False
    emulator_credential.save()

    assert get_token(emulator_client).status_code == HTTPStatus.UNAUTHORIZED


def test_api_refuses_missing_expired_and_revoked_tokens(api, emulator_client, emulator_credential):
    assert api.get("/v2/teams").status_code == HTTPStatus.OK

    expire_api_tokens()
    expired = api.get("/v2/teams")
    assert expired.status_code == HTTPStatus.UNAUTHORIZED
    assert expired.json()["code"] == "unauthorized"

    api.defaults["HTTP_AUTHORIZATION"] = (
        "Bearer " + get_token(emulator_client).json()["access_token"]
    )
    revoke_credential(credential=emulator_credential)
    assert api.get("/v2/teams").status_code == HTTPStatus.UNAUTHORIZED
    del api.defaults["HTTP_AUTHORIZATION"]
    assert api.get("/v2/teams").status_code == HTTPStatus.UNAUTHORIZED


def test_lists_page_with_next_page_until_the_end(api):
    for number in range(5):
        Team.objects.create(name=f"Team {number}")
    names, page, pages = [], None, 0
    while True:
        query = {"limit": 3} | ({"page": page} if page else {})
        body = api.get("/v2/teams", query).json()
        pages += 1
        names += [entry["name"] for entry in body["entries"]]
        assert body["total"] == 7
        if not body["hasMore"]:
            assert body["nextPage"] is None
            break
        page = body["nextPage"]

    assert pages == 3
    assert names == sorted(["Marketing", "Sales"] + [f"Team {n}" for n in range(5)])


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"page": "%%"}])
def test_lists_refuse_bad_paging(api, query):
    response = api.get("/v2/teams", query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "bad_request"


def test_injected_429_then_success(api):
    inject_api_fault(status=429, times=2, retry_after=0)

    first, second, third = (api.get("/v2/teams") for _ in range(3))

    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first["Retry-After"] == "0"
    assert first.json() == {"code": "too_many_requests", "message": "Rate limit exceeded"}


def test_registries_have_sigmas_shapes(api):
    teams = api.get("/v2/teams").json()["entries"]
    sales = next(team for team in teams if team["name"] == "Sales")
    assert set(sales) >= {"teamId", "name", "description", "isArchived", "createdAt"}

    types = api.get("/v2/accountTypes").json()["entries"]
    assert [t["accountTypeName"] for t in types] == ["Admin", "Build", "View"]
    assert set(types[0]) == {"accountTypeId", "accountTypeName", "description", "isCustom"}

    [region] = api.get("/v2/user-attributes").json()["entries"]
    assert (region["name"], region["defaultValue"]) == ("region", None)

    members = api.get("/v2/members").json()["entries"]
    admin = next(m for m in members if m["email"] == "admin@example.com")
    assert (admin["memberType"], admin["userKind"], admin["firstName"]) == (
        "Admin",
        "internal",
        "Ada",
    )
    assert api.get(f"/v2/members/{admin['memberId']}").json() == admin
    found = api.get("/v2/members", {"search": "analyst"}).json()["entries"]
    assert [m["email"] for m in found] == ["analyst@example.com"]

    connection = api.get(f"/v2/connections/{CONNECTION_ID}").json()
    assert (connection["name"], connection["type"]) == ("Sample warehouse", "snowflake")
    assert len(api.get("/v2/connections").json()["entries"]) == 2
    [model] = api.get("/v2/dataModels").json()["entries"]
    assert model["name"] == "Sales model" and model["dataModelUrlId"]


def test_workbooks_pages_elements_and_grants(api):
    [workbook] = api.get("/v2/workbooks").json()["entries"]
    assert workbook["workbookUrlId"] == "4bq2ZtkLmV8xWn3pRs6HyA"
    # The REST form of Sigma's answer: no name segment (the issue 19 report).
    assert workbook["url"] == "http://testserver/acme/workbook/4bq2ZtkLmV8xWn3pRs6HyA"
    workbook_id = workbook["workbookId"]

    pages = api.get(f"/v2/workbooks/{workbook_id}/pages").json()["entries"]
    assert pages == [
        {"pageId": "GHs4vJQxig", "name": "Overview"},
        {"pageId": "3LYCS8UtIU", "name": "Details"},
    ]
    elements = api.get(f"/v2/workbooks/{workbook_id}/pages/GHs4vJQxig/elements").json()
    found = [(e["elementId"], e["type"], e.get("vizualizationType")) for e in elements["entries"]]
    assert found == [
        (SALES_TABLE_ID, "table", None),
        (REVENUE_CHART_ID, "visualization", "bar"),
    ]
    [grant] = api.get("/v2/grants", {"inodeId": workbook_id}).json()["entries"]
    assert grant["inodeId"] == workbook_id and grant["inodeType"] == "workbook"
    assert grant["teamId"] == Team.objects.get(name="Sales").team_id
    assert grant["permission"] == "view"


def test_patch_team_renames_it(api):
    sales = Team.objects.get(name="Sales")

    response = api.patch(
        f"/v2/teams/{sales.team_id}", {"name": "Sales EU"}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "Sales EU"
    assert Workbook.objects.get().shared_with.get().name == "Sales EU"
    clash = api.patch(
        f"/v2/teams/{sales.team_id}", {"name": "Marketing"}, content_type="application/json"
    )
    assert clash.status_code == HTTPStatus.CONFLICT


def test_unknown_ids_and_endpoints_are_json_404(api):
    for path in ("/v2/teams/nope", "/v2/workbooks/nope/pages", "/v2/nothing-here"):
        response = api.get(path)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json()["code"] == "not_found"


def test_api_is_off_when_the_emulator_is(api, settings):
    settings.SIGMA_EMULATOR_ENABLED = False

    assert api.get("/v2/teams").status_code == HTTPStatus.NOT_FOUND
    assert Member.objects.exists()
