"""The emulator's REST API against Sigma's OpenAPI document, not against the client.

Every route the emulator serves is an operation of the document (same method, path
and operationId); every answer it gives fits the document's response schema; a
property-based run drives each read operation with generated query parameters.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigma_emulator import api as emulator_api
from sigma_emulator.models import DataModel, Member, Team, Workbook
from sigma_emulator.sample import CONNECTION_ID, OVERVIEW_PAGE_ID
from tests.emulator.test_api import get_token
from tests.sigma_openapi import ContractViolation, sigma_openapi

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator_credential")]

READS = [op for op in emulator_api.OPERATIONS if op.method == "GET"]


@pytest.fixture
def api(emulator_client):
    token = get_token(emulator_client).json()["access_token"]
    emulator_client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return emulator_client


def sample_ids() -> dict[str, str]:
    workbook = Workbook.objects.get()
    return {
        "teamId": Team.objects.get(name="Sales").team_id,
        "memberId": Member.objects.get(email="admin@example.com").member_id,
        "workbookId": workbook.workbook_id,
        "pageId": OVERVIEW_PAGE_ID,
        "dataModelId": DataModel.objects.get().data_model_id,
        "connectionId": CONNECTION_ID,
    }


def concrete(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


def answer_of(response) -> Any:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()


@pytest.mark.parametrize("operation", emulator_api.OPERATIONS, ids=lambda op: op.operation_id)
def test_every_emulator_operation_is_one_of_sigmas(operation):
    declared = sigma_openapi().by_id(operation.operation_id)

    assert (declared.method, declared.template) == (operation.method, operation.path)
    assert sigma_openapi().operation(operation.method, operation.path) == declared


@pytest.mark.parametrize("operation", READS, ids=lambda op: op.operation_id)
def test_every_read_answer_fits_the_documents_schema(api, operation):
    declared = sigma_openapi().by_id(operation.operation_id)
    path = concrete(operation.path, sample_ids())

    response = api.get(path)

    assert response.status_code == HTTPStatus.OK, response.content[:300]
    sigma_openapi().check_response(declared, answer_of(response))


def test_both_pagination_schemes_fit_the_document_page_after_page(api):
    for operation_id, size, token, next_key in (
        ("listTeams", "limit", "page", "nextPage"),
        ("listAccountTypes", "pageSize", "pageToken", "nextPageToken"),
    ):
        declared = sigma_openapi().by_id(operation_id)
        query: dict[str, Any] = {size: 1}
        seen = []
        while True:
            body = answer_of(api.get(declared.template, query))
            sigma_openapi().check_response(declared, body)
            seen += body["entries"]
            if not body.get(next_key):
                break
            query[token] = body[next_key]
        assert len(seen) >= 2, operation_id


def test_writes_answer_the_documents_shapes(api, emulator_client):
    spec = sigma_openapi()
    spec.check_response(spec.by_id("postToken"), answer_of(get_token(emulator_client)))
    sales = Team.objects.get(name="Sales")
    renamed = api.patch(
        f"/v2/teams/{sales.team_id}", {"description": "West"}, content_type="application/json"
    )
    spec.check_response(spec.by_id("updateTeam"), answer_of(renamed))
    analyst = Member.objects.get(email="analyst@example.com")

    deleted = api.delete(f"/v2/members/{analyst.member_id}")

    spec.check_response(spec.by_id("deleteMember"), answer_of(deleted))
    analyst.refresh_from_db()
    assert analyst.is_archived


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/workbooks/{workbookId}/grants"),  # Sigma has only POST there
        ("GET", "/v2/workbooks/{workbookId}/nothing"),
        ("POST", "/v2/teams/{teamId}"),
        ("GET", "/v2/no-such-thing"),
    ],
)
def test_routes_sigma_lacks_answer_404(api, method, path):
    response = api.generic(method, concrete(path, sample_ids()))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert answer_of(response)["code"] == "not_found"


def test_a_broken_emulator_answer_is_caught(api, monkeypatch):
    """The referee catches an answer Sigma's schema rejects (a missing required field)."""
    shape = emulator_api.member_json
    monkeypatch.setattr(
        emulator_api, "member_json", lambda member: {**shape(member), "homeFolderId": None}
    )
    response = api.get("/v2/members/" + sample_ids()["memberId"])

    with pytest.raises(ContractViolation, match="homeFolderId"):
        sigma_openapi().check_response(sigma_openapi().by_id("getMember"), answer_of(response))


# --- Property-based: generated query parameters -------------------------------------


def _value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Query string values: mostly what the declared type allows, sometimes junk."""
    schema = dict(schema)
    kind = schema.get("type")
    junk = st.text(alphabet="abc%-_0123456789", max_size=6)
    if kind == "boolean":
        return st.sampled_from(["true", "false"]) | junk
    if kind in ("integer", "number"):
        return st.integers(min_value=-3, max_value=1200).map(str) | junk
    if "enum" in schema:
        return st.sampled_from([str(v) for v in schema["enum"]]) | junk
    return st.sampled_from(["0", "1", "2", "admin@example.com", "Sales"]) | junk


def _query(operation) -> st.SearchStrategy[dict[str, str]]:
    declared = sigma_openapi().by_id(operation.operation_id).query
    resolved = {name: dict(sigma_openapi()._deref(schema)) for name, schema in declared.items()}
    return st.fixed_dictionaries(
        {}, optional={name: _value(schema) for name, schema in resolved.items()}
    )


@st.composite
def _call(draw) -> tuple[Any, dict[str, str]]:
    operation = draw(st.sampled_from(READS))
    return operation, draw(_query(operation))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=_call())
def test_generated_queries_get_a_schema_valid_answer_or_a_json_error(api, call):
    operation, query = call
    declared = sigma_openapi().by_id(operation.operation_id)
    sigma_openapi().check_query(declared, [])  # the operation itself is Sigma's

    response = api.get(concrete(operation.path, sample_ids()), query)

    body = answer_of(response)
    if response.status_code == HTTPStatus.OK:
        sigma_openapi().check_response(declared, body)
    else:
        assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND), query
        assert set(body) == {"code", "message"}
