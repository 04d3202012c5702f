"""The sigma_config file schema (embeds.config.schema): pydantic models, path-keyed lines."""

from __future__ import annotations

import json

import pytest

from embeds.config.schema import (
    MAX_DEPTH,
    ConfigInvalid,
    EmbedItem,
    nesting_depth,
    parse_document,
    where,
)
from embeds.protocol.constants import REMOVED_OPTIONS
from embeds.protocol.validators import BOOLEAN_OPTIONS
from tests.conftest import CANARY_SECRET, WORKBOOK_URL

EMBED = {"slug": "s", "title": "S", "url": WORKBOOK_URL, "credential": "C", "teams": []}


def problems_of(data) -> list[str]:
    with pytest.raises(ConfigInvalid) as raised:
        parse_document(json.dumps(data))
    return raised.value.problems


def test_parse_document_fills_defaults_and_keeps_types():
    document = parse_document(json.dumps({"version": 1, "embeds": [EMBED]}))
    (embed,) = document.embeds
    assert (embed.is_enabled, embed.token_ttl, embed.controls) == (True, None, [])
    assert all(getattr(embed, name) is False for name in BOOLEAN_OPTIONS)


def test_embed_fields_follow_the_validators_list_of_interface_switches():
    assert set(BOOLEAN_OPTIONS) <= set(EmbedItem.model_fields)
    assert list(EmbedItem.model_fields)[-1] == "controls"


def test_problems_are_in_file_order_unknown_keys_first_within_an_object():
    data = {
        "version": 1,
        "groups": [{"name": 3}],
        "embeds": [
            {
                **EMBED,
                "token_ttl": True,
                "colour": "red",
                "controls": [{"control_id": "A", "size": 1}, "B"],
            }
        ],
    }
    assert problems_of(data) == [
        "embeds[0]: unknown key 'colour'",
        "embeds[0].token_ttl: expected an integer",
        "embeds[0].controls[0]: unknown key 'size'",
        "embeds[0].controls[1]: expected an object",
        "groups[0].name: expected a string",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": True}, "version: must be 1"),
        ({"version": None}, "version: must be 1"),
        ({"teams": {"name": "x"}}, "teams: expected a list"),
        ({"teams": ["Sales"]}, "teams[0]: expected an object"),
        (
            {"users": [{"username": "a", "teams": ["x", 1]}]},
            "users[0].teams: expected a list of strings",
        ),
        (
            {"users": [{"username": "a", "attributes": {"r": 1}}]},
            "users[0].attributes: expected an object of strings",
        ),
        (
            {"groups": [{"name": "g", "account_type": 1}]},
            "groups[0].account_type: expected a string or null",
        ),
        ({"users": [{}]}, "users[0].username: missing"),
    ],
)
def test_each_shape_problem_is_one_line_keyed_by_its_path(change, problem):
    assert problems_of({"version": 1, **change}) == [problem]


def test_a_secret_under_any_secret_named_key_is_named_by_key_never_by_value():
    credential = {"name": "C", "client_id": "c", "secret_env": "SIGMA_SECRET_C"}
    data = {"version": 1, "credentials": [{**credential, "client_secret": CANARY_SECRET}]}
    problems = problems_of(data)
    assert problems == [
        "credentials[0].client_secret: secrets never go in the file; name an environment "
        "variable in secret_env"
    ]
    assert CANARY_SECRET not in str(problems)


def test_nesting_depth_counts_lists_and_objects_without_recursing():
    assert nesting_depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_depth(deep) == MAX_DEPTH + 1  # stops counting past the limit


def test_where_writes_paths_as_in_the_file():
    assert where(("embeds", 0, "controls", 1, "control_id")) == "embeds[0].controls[1].control_id"


def test_a_long_value_is_never_repeated_whole_in_a_problem():
    team = {"name": CANARY_SECRET}
    problems = problems_of({"version": 1, "teams": [team, team]})
    assert problems == ["teams[1].name: 'canary-SECRET-7f3b9c2e-do-not-leak-0... is listed twice"]
    assert CANARY_SECRET not in str(problems)


def test_secret_env_with_a_trailing_newline_is_not_a_variable_name():
    credential = {"name": "C", "client_id": "c", "secret_env": "SIGMA_SECRET_C\n"}

    assert problems_of({"version": 1, "credentials": [credential]}) == [
        "credentials[0].secret_env: not an environment variable name (A-Z, 0-9, _)"
    ]


@pytest.mark.parametrize("key", REMOVED_OPTIONS)
def test_a_removed_option_is_named_with_what_to_do(key):
    (problem,) = problems_of({"version": 1, "embeds": [{**EMBED, key: False}]})

    assert problem.startswith(f"embeds[0]: '{key}' is no longer an option: ")
    assert "Delete the key" in problem


def test_the_2025_2026_options_are_keys_named_as_sigmas_parameters():
    keys = set(EmbedItem.model_fields)

    assert {
        "hide_bookmarks",
        "hide_explore_toggle",
        "hide_element_interactions",
        "hide_schedule",
        "hide_send",
        "hide_save_as",
        "lng_variant",
    } <= keys
    assert not keys & set(REMOVED_OPTIONS)
