"""Remote findings (embeds.remote.findings) against an in-memory Sigma organization."""

from __future__ import annotations

import dataclasses

import pytest

from embeds.remote.findings import (
    ERROR,
    WARNING,
    ConfigUsage,
    CredentialUsage,
    EmbedUsage,
    UserUsage,
    find_remote_problems,
)


@dataclasses.dataclass
class FakeSigma:
    teams: list = dataclasses.field(
        default_factory=lambda: [
            {"teamId": "t-sales", "name": "Sales"},
            {"teamId": "t-fin", "name": "Finance"},
            {"teamId": "t-old", "name": "Old", "isArchived": True},
        ]
    )
    account_types: list = dataclasses.field(
        default_factory=lambda: [
            {"accountTypeId": "a1", "accountTypeName": "View"},
            {"accountTypeId": "a2", "accountTypeName": "Build"},
        ]
    )
    attributes: list = dataclasses.field(
        default_factory=lambda: [{"userAttributeId": "u1", "name": "region"}]
    )
    members: list = dataclasses.field(
        default_factory=lambda: [
            {"memberId": "m1", "email": "owner@example.com", "memberType": "Admin"},
            {"memberId": "m2", "email": "carol@example.com", "memberType": "Build"},
            {
                "memberId": "m3",
                "email": "alice@example.com",
                "memberType": "View",
                "userKind": "embed",
            },
        ]
    )
    workbooks: list = dataclasses.field(
        default_factory=lambda: [
            {"workbookId": "wb-1", "workbookUrlId": "4bq2ZtkLmV8xWn3pRs6HyA", "name": "Sales"}
        ]
    )
    pages: dict = dataclasses.field(
        default_factory=lambda: {"wb-1": [{"pageId": "Pg1", "name": "Overview"}]}
    )
    elements: dict = dataclasses.field(
        default_factory=lambda: {("wb-1", "Pg1"): [{"elementId": "El1", "name": "Chart"}]}
    )
    grants: dict = dataclasses.field(
        default_factory=lambda: {"wb-1": [{"teamId": "t-sales", "permission": "view"}]}
    )
    data_models: list = dataclasses.field(
        default_factory=lambda: [{"dataModelId": "dm-1", "dataModelUrlId": "DmUrl123"}]
    )
    connections: list = dataclasses.field(
        default_factory=lambda: [{"connectionId": "11111111-2222-3333-4444-555555555555"}]
    )

    def list_teams(self):
        return self.teams

    def list_account_types(self):
        return self.account_types

    def list_user_attributes(self):
        return self.attributes

    def list_members(self):
        return self.members

    def list_workbooks(self):
        return self.workbooks

    def list_workbook_pages(self, workbook_id):
        return self.pages.get(workbook_id, [])

    def list_page_elements(self, workbook_id, page_id):
        return self.elements.get((workbook_id, page_id), [])

    def list_workbook_grants(self, workbook_id):
        return self.grants.get(workbook_id, [])

    def list_data_models(self):
        return self.data_models

    def list_connections(self):
        return self.connections


def embed(**fields) -> EmbedUsage:
    values = {
        "slug": "sales",
        "credential": "Demo",
        "kind": "workbook",
        "workbook_url_id": "4bq2ZtkLmV8xWn3pRs6HyA",
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


def test_matching_configuration_has_no_findings():
    assert find_remote_problems(directory=FakeSigma(), usage=clean_usage()) == []


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
    [("account_types", "Creator", "embeds.R002"), ("attributes", "country", "embeds.R003")],
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
        ({"page_id": "PgX"}, "page 'PgX'"),
        ({"element_id": "ElX"}, "element 'ElX'"),
        (
            {"workbook_url_id": None, "data_model_url_id": "Gone", "kind": "data_model"},
            "data model 'Gone'",
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
        embed(slug="d", workbook_url_id=None, data_model_url_id="DmUrl123"),
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

    findings = find_remote_problems(directory=FakeSigma(), usage=usage)

    assert ids(findings) == [(ERROR, "embeds.R009")]


def test_sigma_is_asked_once_per_workbook_however_many_embeds_use_it():
    calls: list[str] = []

    class Counting(FakeSigma):
        def list_workbook_grants(self, workbook_id):
            calls.append(f"grants {workbook_id}")
            return super().list_workbook_grants(workbook_id)

        def list_workbook_pages(self, workbook_id):
            calls.append(f"pages {workbook_id}")
            return super().list_workbook_pages(workbook_id)

    usage = clean_usage()
    usage.embeds = [embed(slug="a"), embed(slug="b"), embed(slug="c", element_id="El1")]

    assert find_remote_problems(directory=Counting(), usage=usage) == []
    assert sorted(calls) == ["grants wb-1", "pages wb-1"]
