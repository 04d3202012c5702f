"""Typed workbook control values: validation and URL encoding (Sigma's CONTROLS doc).

Sigma reads a control value from the embed URL by its shape: a literal ``,``
separates list values, ``min:``/``max:`` name the ends of a range, and ``:null`` /
``:empty`` are the null value and the empty string. So how a value is encoded
depends on the control's type:

=============  ======================  =========================================
type           stored value            in the URL
=============  ======================  =========================================
``text``       any text                fully encoded (``Smith, John`` becomes
                                       ``Smith%2C%20John``), like
                                       ``encodeURIComponent``
``list``       one value per line      each value encoded, joined by a literal
                                       ``,`` (``Smith,John``)
``number``     ``-12.5``, ``3e4``      as is
``boolean``    ``true`` / ``false``    as is
``date``       ``2024-05-01`` or       as is (ISO, no ``Z``; ``:`` stays literal)
               ``2024-05-01T02:00``
``date_range`` ``min:<date>,max:<date>`` as is, either end may be left out
=============  ======================  =========================================

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


class ControlType(StrEnum):
    TEXT = "text"
    LIST = "list"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATE_RANGE = "date_range"

    @property
    def label(self) -> str:
        return CONTROL_TYPE_LABELS[self]


CONTROL_TYPE_LABELS = {
    ControlType.TEXT: "Text (one value, commas are part of it)",
    ControlType.LIST: "List (one value per line)",
    ControlType.NUMBER: "Number",
    ControlType.BOOLEAN: "Boolean (true/false)",
    ControlType.DATE: "Date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)",
    ControlType.DATE_RANGE: "Date range (min:YYYY-MM-DD,max:YYYY-MM-DD)",
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
_DATE_RANGE_PART = re.compile(r"^(min|max):(.*)\Z", re.DOTALL)

MSG_TYPE = "Choose a control type: text, list, number, boolean, date or date_range."
MSG_CHARACTERS = "A control value is up to 1000 characters without control characters."
MSG_LIST = (
    "A list is one value per line (at most 100), none of them empty; use :empty "
    "for the empty string."
)
MSG_NUMBER = "A number control takes a number such as 42, -3.5 or 1e6."
MSG_BOOLEAN = "A boolean control takes true or false."
MSG_DATE = "A date control takes an ISO date or date-time without a time zone, e.g. 2024-05-01."
MSG_DATE_RANGE = (
    "A date range is min:<date>,max:<date> (either end may be left out), e.g. "
    "min:2024-01-01,max:2024-12-31."
)
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
    if len(value) > MAX_VALUE_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(MSG_CHARACTERS, code="control_value")


def _is_date(value: str) -> bool:
    # Sigma's doc: an ISO date or date-time *without* Z (no zone of any kind).
    if not _ISO_DATE.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_one(control_type: ControlType, value: str) -> None:
    """Validate one (non-list) value of ``control_type``."""
    _check_characters(value)
    if value in SPECIAL_VALUES:
        return
    if control_type == ControlType.NUMBER:
        if not _NUMBER.match(value) or not math.isfinite(float(value)):
            raise ValidationError(MSG_NUMBER, code="control_number")
    elif control_type == ControlType.BOOLEAN:
        if value not in ("true", "false"):
            raise ValidationError(MSG_BOOLEAN, code="control_boolean")
    elif control_type == ControlType.DATE:
        if not _is_date(value):
            raise ValidationError(MSG_DATE, code="control_date")
    elif control_type == ControlType.DATE_RANGE:
        names: list[str] = []
        for part in value.split(","):
            end = _DATE_RANGE_PART.match(part)
            if end is None or not _is_date(end.group(2)):
                names = []
                break
            names.append(end.group(1))
        if names not in (["min"], ["max"], ["min", "max"]):
            raise ValidationError(MSG_DATE_RANGE, code="control_date_range")


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
    # number, boolean, date, date range: validated to [0-9A-Za-z.+:,T-]; ":" and ","
    # must stay literal (Sigma's signing sample: it does not read them encoded).
    return quote(values[0], safe=":,")
