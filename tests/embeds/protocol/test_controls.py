"""embeds.protocol.controls: typed control values, and what the emulated Sigma reads back."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from embeds.protocol import signing
from embeds.protocol.controls import (
    ControlType,
    parse_control_value,
    parse_query_values,
)
from sigma_emulator.verify import ControlReading, read_query

pytestmark = pytest.mark.spec("2.3")

BASE = "https://app.sigmacomputing.com/acme/workbook/Sales-4bq2ZtkLmV8xWn3pRs6HyA"
TOKEN = "aaa.bbb.ccc"


def url_with(control_id: str, value) -> str:
    return signing.build_embed_url(BASE, token=TOKEN, control_values=[(control_id, value)])


def query_of(url: str) -> str:
    return urlsplit(url).query


def test_text_and_two_value_list_give_different_correct_urls():
    as_text = url_with("Customer", parse_control_value("text", "Smith, John"))
    as_list = url_with("Customer", parse_control_value("list", "Smith\nJohn"))

    assert as_text.endswith("&Customer=Smith%2C%20John")
    assert as_list.endswith("&Customer=Smith,John")
    assert read_query(query_of(as_text))[1]["Customer"] == ControlReading("value", ("Smith, John",))
    assert read_query(query_of(as_list))[1]["Customer"] == ControlReading("list", ("Smith", "John"))


@pytest.mark.parametrize(
    ("control_type", "stored", "encoded"),
    [
        ("text", "merchant 1", "merchant%201"),
        ("text", "a&b=c#d?e/f+g", "a%26b%3Dc%23d%3Fe%2Ff%2Bg"),
        ("text", "it's (ok)!", "it's%20(ok)!"),
        ("text", ":null", ":null"),
        ("text", ":empty", ":empty"),
        ("list", "West\nSouth West", "West,South%20West"),
        ("list", "a,b\r\nc", "a%2Cb,c"),
        ("number", "-12.5", "-12.5"),
        ("number", "3e4", "3e4"),
        ("boolean", "true", "true"),
        ("date", "2014-05-01", "2014-05-01"),
        ("date", "2014-05-01T02:00", "2014-05-01T02:00"),
        ("date_range", "min:2024-01-01,max:2024-12-31", "min:2024-01-01,max:2024-12-31"),
        ("date_range", "max:2024-12-31", "max:2024-12-31"),
        ("date", ":null", ":null"),
    ],
)
def test_encoding_follows_the_control_type(control_type, stored, encoded):
    assert parse_control_value(control_type, stored).encoded == encoded


@pytest.mark.parametrize(
    ("control_type", "stored", "code"),
    [
        ("colour", "red", "control_type"),
        ("text", "x" * 1001, "control_value"),
        ("text", "line\nbreak", "control_value"),
        ("list", "a\n\nb", "control_list"),
        ("list", "\n".join(["v"] * 101), "control_list"),
        ("number", "12,5", "control_number"),
        ("number", "nan", "control_number"),
        ("number", "1e999", "control_number"),
        ("number", "", "control_number"),
        ("boolean", "yes", "control_boolean"),
        ("boolean", "True", "control_boolean"),
        ("date", "2014-05-01Z", "control_date"),
        ("date", "2014-05-01T02:00+01:00", "control_date"),
        ("date", "20140501", "control_date"),
        ("date", "2014-02-30", "control_date"),
        ("date_range", "2024-01-01,2024-12-31", "control_date_range"),
        ("date_range", "max:2024-12-31,min:2024-01-01", "control_date_range"),
        ("date_range", "min:2024-01-01,min:2024-02-01", "control_date_range"),
        ("date_range", "min:soon", "control_date_range"),
    ],
)
def test_parse_control_value_refuses_values_that_do_not_fit_the_type(control_type, stored, code):
    with pytest.raises(ValidationError) as raised:
        parse_control_value(control_type, stored)
    assert raised.value.code == code


def test_query_values_become_list_items_one_parameter_each():
    value = parse_query_values("list", ["East", "West, North"])

    assert value.encoded == "East,West%2C%20North"


def test_query_values_refuse_several_values_for_a_single_value_control():
    with pytest.raises(ValidationError) as raised:
        parse_query_values("text", ["a", "b"])
    assert raised.value.code == "control_multiple"


def test_plain_string_control_values_keep_the_old_encoding():
    assert url_with("Region", "West,Southwest").endswith("&Region=West,Southwest")


# --- Property: the emulator reads back exactly what was configured ---------------

text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda value: value not in (":null", ":empty"))
control_ids = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9 _.-]{0,20}\Z")
dates = st.dates().map(lambda day: day.isoformat())
date_times = st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes"))
PROFILE = settings(max_examples=300, deadline=None)


def read_back(control_id: str, value) -> ControlReading:
    options, controls = read_query(query_of(url_with(control_id, value)))
    assert options == {":embed": "true"}
    assert list(controls) == [control_id]
    return controls[control_id]


@PROFILE
@given(control_ids, text_values)
def test_text_reads_back_as_the_one_configured_value(control_id, text):
    reading = read_back(control_id, parse_control_value(ControlType.TEXT, text))

    assert reading == ControlReading("value", (text,))


@PROFILE
@given(control_ids, st.lists(text_values, min_size=1, max_size=6))
def test_list_reads_back_as_the_configured_values(control_id, values):
    reading = read_back(control_id, parse_query_values(ControlType.LIST, values))

    assert reading.values == tuple(values)
    assert reading.kind == ("list" if len(values) > 1 else "value")


@PROFILE
@given(
    control_ids,
    st.one_of(
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
    ),
)
def test_number_reads_back_unchanged(control_id, number):
    reading = read_back(control_id, parse_control_value(ControlType.NUMBER, number))

    assert reading == ControlReading("value", (number,))


@PROFILE
@given(control_ids, st.one_of(dates, date_times), st.sampled_from(["true", "false"]))
def test_date_and_boolean_read_back_unchanged(control_id, day, flag):
    assert read_back(control_id, parse_control_value(ControlType.DATE, day)) == (
        ControlReading("value", (day,))
    )
    assert read_back(control_id, parse_control_value(ControlType.BOOLEAN, flag)) == (
        ControlReading("value", (flag,))
    )


@PROFILE
@given(control_ids, st.one_of(dates, date_times), st.one_of(dates, date_times), st.integers(0, 2))
def test_date_range_reads_back_as_its_ends(control_id, start, end, shape):
    ends = ([("min", start), ("max", end)], [("min", start)], [("max", end)])[shape]
    stored = ",".join(f"{name}:{value}" for name, value in ends)

    reading = read_back(control_id, parse_control_value(ControlType.DATE_RANGE, stored))

    assert reading == ControlReading("range", ends=tuple(ends))


@PROFILE
@given(control_ids, st.sampled_from(list(ControlType)), st.sampled_from([":null", ":empty"]))
def test_null_and_empty_read_back_as_specials_for_every_type(control_id, control_type, special):
    reading = read_back(control_id, parse_control_value(control_type, special))

    assert reading == ControlReading(special[1:])
