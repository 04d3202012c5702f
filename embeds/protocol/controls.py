"""Typed workbook control values: validation and URL encoding (Sigma's CONTROLS doc).

Sigma reads a control value from the embed URL by its shape: a literal ``,``
separates list values, ``min:``/``max:`` name the ends of a range, and ``:null`` /
``:empty`` are the null value and the empty string. So how a value is encoded
depends on the control's type:

================  ==========================  ======================================
type              stored value                in the URL
================  ==========================  ======================================
``text``          any text                    fully encoded (``Smith, John`` becomes
                                              ``Smith%2C%20John``), like
                                              ``encodeURIComponent``
``list``          one value per line          each value encoded, joined by a
                                              literal ``,`` (``Smith,John``)
``number``        ``-12.5``, ``3e4``          as is
``boolean``       ``true`` / ``false``        as is
``date``          a date value (below)        as is (``:`` stays literal)
``date_range``    ``min:<d>,max:<d>`` or      as is; an end may be blank
                  ``start:<d>,end:<d>``       (``min:2024-01-01,max:``)
``number_range``  ``min:<n>,max:<n>``         as is; an end may be blank
================  ==========================  ======================================

A date value is what Sigma's "Set control values in a URL" page lists: an ISO date
or date-time (``2024-05-01``, ``2024-05-01T08:00``, ``2024-03-14T01:59:00``), the
same with ``Z`` for UTC (``2024-05-01T08:00Z``), Unix milliseconds
(``1710381565000``) or a relative date ``prior|next-<part>-<n>`` (``prior-day-3``,
``next-year-0``). A range end may also be blank or ``:null``. Sigma documents
ranges only with both keys, so the one-key form (``min:2024-01-01``) is refused.

``:null`` and ``:empty`` are accepted for every type and sent literally. Pure:
no ORM, no request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from django.core.exceptions import ValidationError

from embeds.protocol.validators import refuse_unless_plain_text


class ControlType(StrEnum):
    TEXT = "text"
    LIST = "list"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATE_RANGE = "date_range"
    NUMBER_RANGE = "number_range"

    @property
    def label(self) -> str:
        return CONTROL_TYPE_LABELS[self]


CONTROL_TYPE_LABELS = {
    ControlType.TEXT: "Text (one value, commas are part of it)",
    ControlType.LIST: "List (one value per line)",
    ControlType.NUMBER: "Number",
    ControlType.BOOLEAN: "Boolean (true/false)",
    ControlType.DATE: "Date (2024-05-01, 2024-05-01T08:00Z, 1710381565000 or prior-day-3)",
    ControlType.DATE_RANGE: "Date range (min:<date>,max:<date>, an end may be blank)",
    ControlType.NUMBER_RANGE: "Number range (min:<number>,max:<number>, an end may be blank)",
}
CONTROL_TYPE_CHOICES = [(t.value, t.label) for t in ControlType]

NULL = ":null"
EMPTY = ":empty"
SPECIAL_VALUES = (NULL, EMPTY)
MAX_VALUE_LENGTH = 1000
MAX_LIST_VALUES = 100

# encodeURIComponent leaves these unencoded; Sigma's doc names that function.
_URI_COMPONENT_SAFE = "-_.!~*'()"
_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?\Z")
# CONTROLS: "append a Z at the end of the timestamp" for UTC (never after a bare date).
_UTC_SUFFIX = "Z"
# CONTROLS: "A Unix timestamp in milliseconds, for example, 1710381565000".
_UNIX_MILLISECONDS = re.compile(r"^\d{1,15}\Z")
# CONTROLS: "<type>-<date_part>-<number>", type prior or next.
_RELATIVE_DATE = re.compile(
    r"^(?:prior|next)-(?:minute|hour|day|week|month|quarter|year)-\d{1,6}\Z"
)
_RANGE_END = re.compile(r"^(min|max|start|end):(.*)\Z", re.DOTALL)
# The key pairs Sigma documents: min/max for every range, start/end for date ranges.
_RANGE_KEYS = {
    "date_range": (("min", "max"), ("start", "end")),
    "number_range": (("min", "max"),),
}

MSG_TYPE = "Choose a control type: text, list, number, boolean, date, date_range or number_range."
MSG_CHARACTERS = "A control value is up to 1000 characters without control characters."
MSG_LIST = (
    "A list is one value per line (at most 100), none of them empty; use :empty "
    "for the empty string."
)
MSG_NUMBER = "A number control takes a number such as 42, -3.5 or 1e6."
MSG_BOOLEAN = "A boolean control takes true or false."
MSG_DATE = (
    "A date control takes an ISO date or date-time (2024-05-01, 2024-05-01T08:00, or "
    "2024-05-01T08:00Z for UTC), Unix milliseconds (1710381565000) or a relative date "
    "(prior-day-3, next-year-0)."
)
MSG_DATE_RANGE = (
    "A date range is min:<date>,max:<date> (or start:<date>,end:<date>); each end is a "
    "date as for a date control, or blank: min:2024-01-01,max: (open end), "
    "min:,max:2024-12-31, min:prior-day-3,max:next-year-0, min:,max: (clear)."
)
MSG_NUMBER_RANGE = (
    "A number range is min:<number>,max:<number>; either number may be blank: "
    "min:4000.5,max:5000, min:4000.5,max: or min:,max:100000."
)
MSG_RANGE_ONE_KEY = "Sigma reads a range only with both keys: write {example} instead of {given}."
MSG_MULTIPLE = "This control takes one value; only list controls take several."


@dataclass(frozen=True)
class ControlValue:
    """A validated value of one control type, ready to encode."""

    type: ControlType
    values: tuple[str, ...]  # one item unless ``type`` is list

    @property
    def encoded(self) -> str:
        return encode_control_value(self.type, self.values)


def _check_characters(value: str) -> None:
    refuse_unless_plain_text(value, MSG_CHARACTERS, code="control_value", limit=MAX_VALUE_LENGTH)


def _is_iso_date(value: str) -> bool:
    if value.endswith(_UTC_SUFFIX) and "T" in value:
        value = value[: -len(_UTC_SUFFIX)]
    if not _ISO_DATE.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_value(value: str) -> bool:
    """One of the date forms of Sigma's CONTROLS page (module docstring)."""
    return bool(
        _is_iso_date(value) or _UNIX_MILLISECONDS.match(value) or _RELATIVE_DATE.match(value)
    )


def _is_number(value: str) -> bool:
    return bool(_NUMBER.match(value)) and math.isfinite(float(value))


def _range_ends(kind: ControlType, value: str) -> tuple[tuple[str, str], ...] | None:
    """The ``(key, value)`` ends of a range in a documented form, else ``None``."""
    parts = value.split(",")
    ends = []
    for part in parts:
        end = _RANGE_END.match(part)
        if end is None:
            return None
        ends.append((end.group(1), end.group(2)))
    keys = tuple(name for name, _ in ends)
    if keys not in _RANGE_KEYS[kind.value]:
        return None
    return tuple(ends)


def _check_range(kind: ControlType, value: str) -> None:
    message, code = (
        (MSG_DATE_RANGE, "control_date_range")
        if kind == ControlType.DATE_RANGE
        else (MSG_NUMBER_RANGE, "control_number_range")
    )
    ends = _range_ends(kind, value)
    if ends is None:
        one = _RANGE_END.match(value)
        if one is not None and "," not in value:
            # The one-key form (min:X alone): in no example or syntax line of CONTROLS.
            given = {one.group(1): one.group(2)}
            dated = kind == ControlType.DATE_RANGE and set(given) <= {"start", "end"}
            first, second = ("start", "end") if dated else ("min", "max")
            example = f"{first}:{given.get(first, '')},{second}:{given.get(second, '')}"
            raise ValidationError(
                MSG_RANGE_ONE_KEY.format(example=example, given=value), code="control_range_one_key"
            )
        raise ValidationError(message, code=code)
    for _, end in ends:
        # CONTROLS: an end may be blank; a date range end may also be ":null".
        if end == "" or (end == NULL and kind == ControlType.DATE_RANGE):
            continue
        fits = is_date_value(end) if kind == ControlType.DATE_RANGE else _is_number(end)
        if not fits:
            raise ValidationError(message, code=code)


def _check_one(control_type: ControlType, value: str) -> None:
    """Validate one (non-list) value of ``control_type``."""
    _check_characters(value)
    if value in SPECIAL_VALUES:
        return
    if control_type == ControlType.NUMBER:
        if not _is_number(value):
            raise ValidationError(MSG_NUMBER, code="control_number")
    elif control_type == ControlType.BOOLEAN:
        if value not in ("true", "false"):
            raise ValidationError(MSG_BOOLEAN, code="control_boolean")
    elif control_type == ControlType.DATE:
        if not is_date_value(value):
            raise ValidationError(MSG_DATE, code="control_date")
    elif control_type in (ControlType.DATE_RANGE, ControlType.NUMBER_RANGE):
        _check_range(control_type, value)


def split_list(stored: str) -> tuple[str, ...]:
    """The values of a stored list: one per line (``\\r\\n`` or ``\\n``)."""
    return tuple(stored.replace("\r\n", "\n").split("\n"))


def parse_control_value(control_type: str, stored: str) -> ControlValue:
    """Validate a stored value (admin, sigma_config) of ``control_type``.

    Refuses (``ValidationError`` with a ``control_*`` code) an unknown type, more
    than 1000 characters or control characters in a value, and values that do not
    fit the type (see the module table). A list holds 1 to 100 non-empty values.
    """
    try:
        kind = ControlType(control_type)
    except ValueError:
        raise ValidationError(MSG_TYPE, code="control_type") from None
    if kind == ControlType.LIST:
        values = split_list(stored)
        if len(values) > MAX_LIST_VALUES or not all(values):
            raise ValidationError(MSG_LIST, code="control_list")
        for value in values:
            _check_characters(value)
        return ControlValue(kind, values)
    _check_one(kind, stored)
    return ControlValue(kind, (stored,))


def parse_query_values(control_type: str, values: list[str]) -> ControlValue:
    """Validate values the host page's own query string gave for one control.

    Each repeated parameter (``?Region=East&Region=West``) is one list value; a
    non-list control refuses more than one (``control_multiple``). Commas inside
    a value are part of it, never a separator.
    """
    if control_type == ControlType.LIST:
        if not values or len(values) > MAX_LIST_VALUES or not all(values):
            raise ValidationError(MSG_LIST, code="control_list")
        for value in values:
            _check_characters(value)
        return ControlValue(ControlType.LIST, tuple(values))
    if len(values) != 1:
        raise ValidationError(MSG_MULTIPLE, code="control_multiple")
    return parse_control_value(control_type, values[0])


def encode_control_value(control_type: ControlType | str, values: tuple[str, ...]) -> str:
    """The URL form of validated ``values`` (see the module table)."""
    kind = ControlType(control_type)
    if len(values) == 1 and values[0] in SPECIAL_VALUES:
        return values[0]
    if kind == ControlType.TEXT:
        return quote(values[0], safe=_URI_COMPONENT_SAFE)
    if kind == ControlType.LIST:
        # A ":null" inside a list is a value like any other, so it is encoded.
        return ",".join(quote(value, safe=_URI_COMPONENT_SAFE) for value in values)
    # number, boolean, date, date and number ranges: validated to [0-9A-Za-z.+:,TZ-];
    # ":" and "," must stay literal (Sigma's signing sample: it does not read them encoded).
    return quote(values[0], safe=":,")
