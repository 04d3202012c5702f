"""Remote findings (embeds.remote.findings) through the REST API client, against a
Sigma organization that answers as Sigma's OpenAPI document says
(tests/sigma_document_org.py), not against the emulator."""

from __future__ import annotations

import dataclasses

import pytest

from embeds.remote.findings import (
    ERROR,
    WARNING,
    ConfigUsage,
    CredentialUsage,
    EmbedUsage,
    RemoteSettings,
    UserUsage,
)
from embeds.remote.findings import find_remote_problems as _find
from tests.sigma_document_org import (
    CONNECTION_ID,
    DATA_MODEL_ID,
    DATA_MODEL_URL_ID,
    WORKBOOK_ID,
    WORKBOOK_URL_ID,
    DocumentSigma,
    connection,
)


class FakeSigma(DocumentSigma):
    """The document-shaped organization; ``find_remote_problems`` asks it over HTTP."""


def find_remote_problems(*, directory: DocumentSigma, usage: ConfigUsage, **kwargs):
    with directory.client() as client:
        return _find(directory=client, usage=usage, **kwargs)


def embed(**fields) -> EmbedUsage:
    values = {
        "slug": "sales",
        "credential": "Demo",
        "kind": "workbook",
        "workbook_url_id": WORKBOOK_URL_ID,
        "page_id": None,
        "element_id": None,
        "data_model_url_id": None,
        "teams": ("Sales",),
    }
    values.update(fields)
    return EmbedUsage(**values)


def clean_usage() -> ConfigUsage:
    return ConfigUsage(
        teams={"Sales": {"embed sales", "user alice"}},
        account_types={"View": {"user alice"}},
        attributes={"region": {"user alice"}},
        embeds=[embed()],
        credentials=[
            CredentialUsage(
                name="Demo",
                client_id="demo",
                owner_email="owner@example.com",
                owner_is_admin=True,
                embeds=("sales",),
            )
        ],
        users=[UserUsage(username="alice", sigma_email="alice@example.com")],
    )


def ids(findings):
    return [(f.level, f.id) for f in findings]


@pytest.mark.parametrize(
    "sigma",
    [FakeSigma(), FakeSigma(page_size=1), FakeSigma(bare_lists=True), FakeSigma(page_size=50)],
    ids=["pages-of-2", "pages-of-1", "bare-array-answers", "one-page"],
)
def test_matching_configuration_has_no_findings(sigma):
    assert find_remote_problems(directory=sigma, usage=clean_usage()) == []


def test_renamed_team_names_the_team_and_what_it_breaks():
    sigma = FakeSigma()
    sigma.teams[0]["name"] = "Sales EMEA"

    findings = find_remote_problems(directory=sigma, usage=clean_usage())

    team = [f for f in findings if f.id == "embeds.R001"]
    assert len(team) == 1
    assert team[0].message == (
        "Team 'Sales' does not exist in Sigma; it breaks embed sales, user alice."
    )
    assert team[0].obj == "team 'Sales'"


def test_archived_team_counts_as_missing():
    usage = clean_usage()
    usage.teams["Old"] = {"user bob"}

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R001")]
    assert "'Old'" in findings[0].message


def test_team_differing_only_in_case_gets_a_hint_naming_sigmas_spelling():
    usage = clean_usage()
    usage.teams["sales"] = {"user bob"}

    (finding,) = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert finding.hint == "Sigma has 'Sales' (names are case-sensitive): rename it in the host."


@pytest.mark.parametrize(
    ("registry", "name", "finding_id"),
    [("account_types", "Explorer", "embeds.R002"), ("attributes", "country", "embeds.R003")],
)
def test_unknown_account_type_or_attribute_is_an_error(registry, name, finding_id):
    usage = clean_usage()
    getattr(usage, registry)[name] = {"user alice"}

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, finding_id)]
    assert repr(name) in findings[0].message


@pytest.mark.parametrize(
    ("fields", "message_part"),
    [
        ({"workbook_url_id": "Nope1234567890abcd"}, "workbook 'Nope1234567890abcd'"),
        ({"workbook_url_id": "OldWb1234567890abcdef"}, "workbook 'OldWb1234567890abcdef'"),
        ({"page_id": "PgX"}, "page 'PgX'"),
        ({"element_id": "ElX"}, "element 'ElX'"),
        ({"element_id": "ElTagged"}, "element 'ElTagged'"),  # only in the tagged version
        (
            {
                "workbook_url_id": None,
                "data_model_url_id": "Gone1234567890abcdef",
                "kind": "data model",
            },
            "data model 'Gone1234567890abcdef'",
        ),
        (
            {
                "workbook_url_id": None,
                "data_model_url_id": "GoneDm1234567890abcd",
                "kind": "data model",
            },
            "data model 'GoneDm1234567890abcd'",
        ),
    ],
)
def test_embed_path_that_resolves_to_nothing_is_an_error(fields, message_part):
    usage = clean_usage()
    usage.embeds = [embed(**fields)]

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R004")]
    assert message_part in findings[0].message


def test_existing_page_element_and_data_model_resolve():
    usage = clean_usage()
    usage.embeds = [
        embed(slug="p", page_id="Pg1"),
        embed(slug="e", element_id="El1"),
        embed(slug="t", element_id="ElTagged", tag="prod"),
        embed(slug="api", workbook_url_id=WORKBOOK_ID, page_id="Pg1"),  # API syntax: UUID
        embed(slug="d", workbook_url_id=None, data_model_url_id=DATA_MODEL_URL_ID),
        embed(slug="d2", workbook_url_id=None, data_model_url_id=DATA_MODEL_ID),
    ]

    assert find_remote_problems(directory=FakeSigma(), usage=usage) == []


def test_workbook_not_shared_with_the_embeds_teams_is_a_warning():
    usage = clean_usage()
    usage.embeds = [embed(teams=("Finance",))]
    usage.teams["Finance"] = {"embed sales"}

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(WARNING, "embeds.R005")]


def test_owner_not_a_member_is_an_error():
    usage = clean_usage()
    usage.credentials = [dataclasses.replace(usage.credentials[0], owner_email="x@example.com")]

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R006")]
    assert "breaks embed sales" in findings[0].message


def test_owner_deactivated_in_sigma_is_not_a_member():
    usage = clean_usage()
    usage.credentials = [dataclasses.replace(usage.credentials[0], owner_email="gone@example.com")]

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R006")]


def test_owner_marked_admin_but_not_admin_in_sigma_is_an_error():
    usage = clean_usage()
    usage.credentials = [dataclasses.replace(usage.credentials[0], owner_email="carol@example.com")]

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R007")]


def test_admin_owner_marked_non_admin_is_a_warning():
    usage = clean_usage()
    usage.credentials = [dataclasses.replace(usage.credentials[0], owner_is_admin=False)]

    assert ids(find_remote_problems(directory=FakeSigma(), usage=usage)) == [
        (WARNING, "embeds.R007")
    ]


def test_host_user_signed_in_as_an_internal_member_is_an_error():
    usage = clean_usage()
    usage.users.append(UserUsage(username="mallory", sigma_email="CAROL@example.com"))

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R008")]
    assert "'mallory'" in findings[0].message


def test_internal_mapping_of_an_internal_member_is_fine():
    usage = clean_usage()
    usage.users.append(UserUsage(username="carol", sigma_email="carol@example.com", internal=True))

    assert find_remote_problems(directory=FakeSigma(), usage=usage) == []


def test_unknown_eval_connection_id_is_an_error():
    usage = clean_usage()
    usage.embeds = [embed(eval_connection_id="99999999-0000-0000-0000-000000000000")]
    assert CONNECTION_ID not in usage.embeds[0].eval_connection_id

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R009")]


def test_sigma_is_asked_once_per_workbook_however_many_embeds_use_it():
    sigma = FakeSigma()
    usage = clean_usage()
    usage.embeds = [embed(slug="a"), embed(slug="b"), embed(slug="c", element_id="El1")]

    assert find_remote_problems(directory=sigma, usage=usage) == []
    assert sigma.operation_ids.count("listGrants") == 1
    assert sigma.operation_ids.count("listWorkbookPages") == 1
    assert sigma.operation_ids.count("listWorkbooks") == 1


def test_grants_are_listed_by_inode_id():
    sigma = FakeSigma()

    find_remote_problems(directory=sigma, usage=clean_usage())

    [request] = [r for r in sigma.requests if r.url.path == "/v2/grants"]
    assert request.url.params["inodeId"] == WORKBOOK_ID


def test_account_types_on_a_later_token_page_are_found():
    sigma = FakeSigma(page_size=1)
    usage = clean_usage()
    usage.account_types["Creator"] = {"user carol"}  # Sigma's fourth account type

    assert find_remote_problems(directory=sigma, usage=usage) == []
    pages = [r.url.params for r in sigma.requests if r.url.path == "/v2/accountTypes"]
    assert [p.get("pageToken") for p in pages] == [None, "1", "2", "3"]
    assert all("limit" not in p and "page" not in p for p in pages)


def test_members_are_looked_up_by_email_never_listed_whole():
    sigma = FakeSigma()

    find_remote_problems(directory=sigma, usage=clean_usage())

    members = [r.url.params for r in sigma.requests if r.url.path == "/v2/members"]
    assert sorted(p["email"] for p in members) == ["alice@example.com", "owner@example.com"]


def test_an_admin_api_credential_sees_every_workbook_with_skip_permission_check():
    sigma = FakeSigma()
    sigma.hidden_workbooks.add(WORKBOOK_ID)  # not shared with the credential's owner

    assert find_remote_problems(directory=sigma, usage=clean_usage()) == []
    [listing] = [r for r in sigma.requests if r.url.path == "/v2/workbooks"]
    assert listing.url.params["skipPermissionCheck"] == "true"


def test_a_non_admin_api_credential_is_a_warning_and_skips_account_types():
    sigma = FakeSigma(owner_id="m-carol")
    sigma.hidden_workbooks.add(WORKBOOK_ID)
    usage = clean_usage()
    usage.credentials = []

    findings = find_remote_problems(directory=sigma, usage=usage)

    assert ids(findings) == [(WARNING, "embeds.R011"), (ERROR, "embeds.R004")]
    assert "not owned by a Sigma Admin" in findings[0].message
    assert "skipPermissionCheck" not in str([r.url for r in sigma.requests])


def test_an_oauth_connection_without_a_token_provider_is_a_warning():
    sigma = FakeSigma()
    sigma.connections.append(
        connection("66666666-7777-8888-9999-000000000000", "OAuth", use_oauth=True)
    )

    findings = find_remote_problems(directory=sigma, usage=clean_usage())
    provided = find_remote_problems(
        directory=sigma, usage=clean_usage(), host=RemoteSettings(oauth_token_provider=True)
    )

    assert ids(findings) == [(WARNING, "embeds.R012")]
    assert "'OAuth'" in findings[0].message and "SIGMA_OAUTH_TOKEN_PROVIDER" in findings[0].message
    assert provided == []


def test_every_request_is_one_sigmas_document_declares(sigma_rest_contract):
    usage = clean_usage()
    usage.embeds.append(embed(slug="t", element_id="ElTagged", tag="prod"))
    usage.embeds.append(embed(slug="d", workbook_url_id=None, data_model_url_id=DATA_MODEL_ID))

    find_remote_problems(directory=FakeSigma(), usage=usage)

    assert sorted(set(sigma_rest_contract.called)) == [
        "getMember",
        "listAccountTypes",
        "listConnections",
        "listDataModels",
        "listGrants",
        "listMembers",
        "listTeams",
        "listUserAttributes",
        "listWorkbookPageElements",
        "listWorkbookPages",
        "listWorkbooks",
        "postToken",
        "whoami",
    ]


def test_internal_mapping_of_an_email_sigma_does_not_know_is_an_error():
    usage = clean_usage()
    usage.users.append(UserUsage(username="ghost", sigma_email="ghost@example.com", internal=True))

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R010")]
    assert findings[0].obj == "user 'ghost'"
