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
        ("date_range", "min:,max:2024-12-31", "min:,max:2024-12-31"),
        ("date", ":null", ":null"),
        ("number_range", "min:-1.5e3,max:", "min:-1.5e3,max:"),
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
        ("date", "2014/05/01", "control_date"),
        ("date", "2014-02-30", "control_date"),
        ("date", "last-day-3", "control_date"),
        ("date", "prior-fortnight-1", "control_date"),
        ("date", "prior-day-", "control_date"),
        ("date", "-1710381565000", "control_date"),
        ("date_range", "2024-01-01,2024-12-31", "control_date_range"),
        ("date_range", "max:2024-12-31,min:2024-01-01", "control_date_range"),
        ("date_range", "min:2024-01-01,min:2024-02-01", "control_date_range"),
        ("date_range", "min:2024-01-01,end:2024-02-01", "control_date_range"),
        ("date_range", "min:soon,max:", "control_date_range"),
        ("date_range", "min:soon", "control_range_one_key"),
        ("date_range", "min:2024-01-01", "control_range_one_key"),
        ("date_range", "max:2024-12-31", "control_range_one_key"),
        ("date_range", "start:prior-day-3", "control_range_one_key"),
        ("number_range", "min:5", "control_range_one_key"),
        ("number_range", "start:1,end:2", "control_number_range"),
        ("number_range", "min:1%2C000,max:", "control_number_range"),
        ("number_range", "min::null,max:", "control_number_range"),
        ("number_range", "min:2024-01-01,max:", "control_number_range"),
    ],
)
def test_parse_control_value_refuses_values_that_do_not_fit_the_type(control_type, stored, code):
    with pytest.raises(ValidationError) as raised:
        parse_control_value(control_type, stored)
    assert raised.value.code == code


def test_the_one_key_form_is_refused_with_sigmas_form_in_the_message():
    with pytest.raises(ValidationError) as raised:
        parse_control_value("date_range", "min:2024-01-01")
    assert raised.value.messages == [
        "Sigma reads a range only with both keys: write min:2024-01-01,max: instead of "
        "min:2024-01-01."
    ]
    with pytest.raises(ValidationError) as raised:
        parse_control_value("date_range", "end:next-year-0")
    assert "start:,end:next-year-0" in raised.value.messages[0]


# One example of every form Sigma documents, with the page it is on. CONTROLS is
# https://help.sigmacomputing.com/docs/workbook-control-values-in-the-url (text read
# from its 2025-10 copy, see docs/sigma-protocol.md "Control values").
CONTROLS = "https://help.sigmacomputing.com/docs/workbook-control-values-in-the-url"
DOCUMENTED_FORMS = [
    # (control type, the value as written on the page, what the emulator reads, source)
    ("date", "2024-05-01", ControlReading("value", ("2024-05-01",)), CONTROLS + "#date-examples"),
    ("date", "2024-05-01T08:00", ControlReading("value", ("2024-05-01T08:00",)), CONTROLS),
    ("date", "2024-03-14T01:59:00", ControlReading("value", ("2024-03-14T01:59:00",)), CONTROLS),
    ("date", "2024-05-01T08:00Z", ControlReading("value", ("2024-05-01T08:00Z",)), CONTROLS),
    ("date", "2023-06-08T00:00:00Z", ControlReading("value", ("2023-06-08T00:00:00Z",)), CONTROLS),
    ("date", "1710381565000", ControlReading("value", ("1710381565000",)), CONTROLS),
    ("date", "prior-month-3", ControlReading("value", ("prior-month-3",)), CONTROLS),
    ("date", ":null", ControlReading("null"), CONTROLS + "#special-parameter-values"),
    (
        "date_range",
        "min:2024-04-01,max:prior-day-3",
        ControlReading("range", ends=(("min", "2024-04-01"), ("max", "prior-day-3"))),
        CONTROLS + "#date-range-examples",
    ),
    (
        "date_range",
        "min:2024-04-01,max:",
        ControlReading("range", ends=(("min", "2024-04-01"), ("max", ""))),
        CONTROLS + "#date-range-examples",
    ),
    (
        "date_range",
        "min:,max:2024-12-31",
        ControlReading("range", ends=(("min", ""), ("max", "2024-12-31"))),
        CONTROLS + "#set-a-date-range-control-value-in-a-url",
    ),
    (
        "date_range",
        "min:,max:",
        ControlReading("range", ends=(("min", ""), ("max", ""))),
        CONTROLS + "#date-range-examples",
    ),
    (
        "date_range",
        "min:prior-year-1,max:next-year-0",
        ControlReading("range", ends=(("min", "prior-year-1"), ("max", "next-year-0"))),
        CONTROLS + "#available-values-1",
    ),
    (
        "date_range",
        "start:2024-04-01,end:2024-06-30",
        ControlReading("range", ends=(("start", "2024-04-01"), ("end", "2024-06-30"))),
        CONTROLS + " (tip: start and end instead of min and max)",
    ),
    (
        "date_range",
        "min:1710381565000,max:2023-06-08T00:00:00Z",
        ControlReading("range", ends=(("min", "1710381565000"), ("max", "2023-06-08T00:00:00Z"))),
        CONTROLS + "#available-values-1",
    ),
    (
        "date_range",
        "min::null,max:2024-12-31",
        ControlReading("range", ends=(("min", ":null"), ("max", "2024-12-31"))),
        CONTROLS + '#available-values-1 ("Blank or :null to clear")',
    ),
    (
        "number_range",
        "min:4000.5,max:",
        ControlReading("range", ends=(("min", "4000.5"), ("max", ""))),
        CONTROLS + "#number-range-examples",
    ),
    (
        "number_range",
        "min:4000.5,max:5000",
        ControlReading("range", ends=(("min", "4000.5"), ("max", "5000"))),
        CONTROLS + "#number-range-examples",
    ),
    (
        "number_range",
        "min:,max:100000",
        ControlReading("range", ends=(("min", ""), ("max", "100000"))),
        CONTROLS + "#number-range-examples",
    ),
]


@pytest.mark.parametrize(("control_type", "written", "reading", "source"), DOCUMENTED_FORMS)
def test_every_documented_form_is_accepted_sent_as_written_and_read_back(
    control_type, written, reading, source
):
    value = parse_control_value(control_type, written)

    assert url_with("Period", value).endswith("&Period=" + written), source
    assert read_back("Period", value) == reading, source


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


relative_dates = st.builds(
    "{}-{}-{}".format,
    st.sampled_from(["prior", "next"]),
    st.sampled_from(["minute", "hour", "day", "week", "month", "quarter", "year"]),
    st.integers(0, 999),
)
utc_times = date_times.map(lambda moment: moment + "Z")
milliseconds = st.integers(0, 10**13).map(str)
date_values = st.one_of(dates, date_times, utc_times, milliseconds, relative_dates)
numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@PROFILE
@given(control_ids, date_values)
def test_every_date_form_reads_back_unchanged(control_id, day):
    reading = read_back(control_id, parse_control_value(ControlType.DATE, day))

    assert reading == ControlReading("value", (day,))


@PROFILE
@given(
    control_ids,
    st.one_of(date_values, st.just(""), st.just(":null")),
    st.one_of(date_values, st.just(""), st.just(":null")),
    st.sampled_from([("min", "max"), ("start", "end")]),
)
def test_date_range_reads_back_as_its_ends(control_id, start, end, keys):
    ends = ((keys[0], start), (keys[1], end))
    stored = ",".join(f"{name}:{value}" for name, value in ends)

    reading = read_back(control_id, parse_control_value(ControlType.DATE_RANGE, stored))

    assert reading == ControlReading("range", ends=ends)


@PROFILE
@given(control_ids, st.one_of(numbers, st.just("")), st.one_of(numbers, st.just("")))
def test_number_range_reads_back_as_its_ends(control_id, low, high):
    stored = f"min:{low},max:{high}"

    reading = read_back(control_id, parse_control_value(ControlType.NUMBER_RANGE, stored))

    assert reading == ControlReading("range", ends=(("min", low), ("max", high)))


@PROFILE
@given(control_ids, st.sampled_from(list(ControlType)), st.sampled_from([":null", ":empty"]))
def test_null_and_empty_read_back_as_specials_for_every_type(control_id, control_type, special):
    reading = read_back(control_id, parse_control_value(control_type, special))

    assert reading == ControlReading(special[1:])
