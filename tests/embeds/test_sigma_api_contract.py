"""The REST API client against Sigma's OpenAPI document (tests/sigma_openapi.py).

Every request the client sends in any test passes the autouse ``sigma_rest_contract``
fixture (tests/conftest.py); these tests show that the referee refuses what Sigma
does not declare, and that the client's own operation table is Sigma's.
"""

from __future__ import annotations

import httpx
import pytest

from embeds.sigma_api import OPERATIONS
from tests.sigma_document_org import DocumentSigma
from tests.sigma_openapi import ContractViolation, sigma_openapi


@pytest.mark.parametrize(("operation_id", "route"), sorted(OPERATIONS.items()))
def test_every_operation_the_client_calls_is_sigmas(operation_id, route):
    declared = sigma_openapi().by_id(operation_id)

    assert (declared.method, declared.template) == route


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # The route the client used to call: Sigma has only POST there.
        (
            lambda c: c.get("/v2/workbooks/wb-1/grants"),
            "has no GET /v2/workbooks/wb-1/grants",
        ),
        # The paging the client used to send to listAccountTypes.
        (
            lambda c: c.get("/v2/accountTypes", {"limit": 1000}),
            "listAccountTypes (GET /v2/accountTypes) declares no query parameter 'limit'",
        ),
        (lambda c: c.get("/v2/members", {"kind": "embed"}), "declares no query parameter 'kind'"),
        (lambda c: c.get("/v2/workbooks", {"skipPermissionCheck": "yes"}), "does not fit"),
        (lambda c: c.delete("/v2/teams"), "has no DELETE /v2/teams"),
    ],
)
def test_a_request_sigma_does_not_declare_fails_the_test(sigma_rest_contract, call, message):
    with DocumentSigma().client() as client, pytest.raises(ContractViolation) as refused:
        call(client)

    assert message in str(refused.value)
    assert len(sigma_rest_contract.violations) == 1
    sigma_rest_contract.violations.clear()  # expected here; any other test would fail


def test_query_parameters_are_checked_on_the_request_as_sent():
    request = httpx.Request(
        "GET", "https://api.example.test/v2/workbooks/wb%2F1/pages", params={"tag": "prod"}
    )

    assert sigma_openapi().check_request(request).operation_id == "listWorkbookPages"


def test_document_corrections_are_listed():
    """Only oneOf unions of overlapping string enums are corrected (to anyOf)."""
    assert "V2GrantsGetResponsesContentApplicationJsonSchemaEntriesItemsPermission" in (
        sigma_openapi().corrections
    )
    assert all(
        name.endswith(("Permission", "PermissionFilter")) for name in sigma_openapi().corrections
    )
