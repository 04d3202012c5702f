"""Reading an embed URL's query string the way Sigma does (CONTROLS, spec §2.3).

Interface options (``:name``) and control values; the token itself (``:jwt``) is
:mod:`.verify`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

_RANGE_END = re.compile(r"^(min|max|start|end):")
# CONTROLS ("Set a number range ... / date range control value in a URL"): both keys,
# min then max; a date range may say start/end instead. No one-key form is documented.
_RANGE_KEYS = (("min", "max"), ("start", "end"))


@dataclass(frozen=True)
class ControlReading:
    """What Sigma makes of one control parameter.

    ``kind`` is ``value`` (one value), ``list`` (several, split on literal
    commas), ``range`` (``min:``/``max:`` or ``start:``/``end:`` ends, both keys
    present, an end possibly blank), ``null`` or ``empty``.
    """

    kind: str
    values: tuple[str, ...] = ()
    ends: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        if self.kind in ("null", "empty"):
            return f":{self.kind}"
        if self.kind == "range":
            return ",".join(f"{name}:{value}" for name, value in self.ends)
        return ",".join(self.values)


def _range_ends(parts: list[str]) -> tuple[tuple[str, str], ...] | None:
    if len(parts) != 2 or not all(_RANGE_END.match(part) for part in parts):
        return None
    ends = tuple(
        (name, unquote_plus(value)) for name, _, value in (part.partition(":") for part in parts)
    )
    if (ends[0][0], ends[1][0]) not in _RANGE_KEYS:
        return None
    return ends


def read_control_value(raw: str) -> ControlReading:
    """Decode one raw (still percent-encoded) control value.

    Literal ``,`` separates values and literal ``min:``/``max:`` (or
    ``start:``/``end:``) mark the two ends of a range, so the split happens before
    percent-decoding: ``Smith%2C%20John`` is one value, ``Smith,John`` two. A
    half range (``min:2024-01-01`` alone) is in none of Sigma's forms: it reads as
    one plain value, never as a range.
    """
    if raw in (":null", ":empty"):
        return ControlReading(kind=raw[1:])
    parts = raw.split(",")
    ends = _range_ends(parts)
    if ends is not None:
        return ControlReading(kind="range", ends=ends)
    values = tuple(unquote_plus(part) for part in parts)
    return ControlReading(kind="list" if len(values) > 1 else "value", values=values)


def read_query(query_string: str) -> tuple[dict[str, str], dict[str, ControlReading]]:
    """Interface options (``:name``, never ``:jwt``) and control values of a query."""
    options: dict[str, str] = {}
    controls: dict[str, ControlReading] = {}
    for pair in query_string.split("&"):
        raw_name, _, raw_value = pair.partition("=")
        name = unquote_plus(raw_name)
        if not name or name == ":jwt":
            continue
        if name.startswith(":"):
            options[name] = unquote_plus(raw_value)
        else:
            controls[name] = read_control_value(raw_value)
    return options, controls
