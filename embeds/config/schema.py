"""The ``sigma_config`` file format as pydantic models, and its problems as lines.

Every problem is one line keyed by its place in the file (``embeds[0].token_ttl:
expected an integer``), so a whole file's problems can be listed at once and fixed
in one pass. Messages never repeat a value's content: a misplaced secret is named
by its key only, and names are quoted at most 40 characters long (:func:`quoted`).

Limits, checked before the models see anything: the file is at most
:data:`MAX_BYTES` and nests lists and objects at most :data:`MAX_DEPTH` deep (the
format itself needs 5), so a hostile file costs neither memory nor a crash.

``secret_env`` names the environment variable holding a credential's secret. Only
variables starting with :data:`SECRET_ENV_PREFIX` are accepted: without the rule a
file could point at ``SECRET_KEY`` or a database password and make it a signing
key (issue #10).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from embeds.protocol.constants import REMOVED_OPTIONS
from embeds.protocol.validators import BOOLEAN_OPTIONS

FORMAT_VERSION = 1
#: Largest file sigma_config reads, in bytes (10 MiB holds ~50,000 user mappings).
MAX_BYTES = 10 * 1024 * 1024
#: Deepest nesting of lists and objects accepted; the format needs 5.
MAX_DEPTH = 10
#: Problems shown on the one error line; the rest are counted.
MAX_PROBLEMS = 20
#: The only environment variables a file may name as a secret's source.
SECRET_ENV_PREFIX = "SIGMA_SECRET_"  # noqa: S105 - a name prefix, not a secret
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")

MSG_JSON = "not valid JSON (line %(line)d, column %(column)d: %(reason)s)"
MSG_TOP_LEVEL = "expected a JSON object at the top level"
MSG_TOO_LARGE = "the file is larger than %(limit)d bytes; sigma_config reads at most that"
MSG_TOO_DEEP = "lists and objects are nested more than %(limit)d deep; the format needs at most 5"
MSG_VERSION = "must be %(version)d"
MSG_ENV_NAME = "not an environment variable name (A-Z, 0-9, _)"
MSG_ENV_PREFIX = (
    "must start with %(prefix)s: only those environment variables may hold an embed secret"
)
MSG_SECRET_IN_FILE = "secrets never go in the file; name an environment variable in secret_env"  # noqa: S105
MSG_DUPLICATE = "%(key)s is listed twice"
MSG_REMOVED_OPTION = (
    "'%(key)s' is no longer an option: Sigma's list of parameters for JWT-signed URLs "
    "does not include it and says unlisted parameters are not supported, so Sigma "
    "ignored it. Delete the key; to take a feature away from users, use their account "
    "type's permissions in Sigma"
)


class ConfigInvalid(Exception):
    """The document is not valid; ``problems`` name each place. Nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more else "")
        super().__init__(text)


def _expect(description: str) -> WrapValidator:
    """Any problem inside the value becomes one "expected <description>" at the field."""

    def check(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "expected", "expected {what}", {"what": description}
            ) from None

    return WrapValidator(check)


Text = Annotated[str, _expect("a string")]
OptionalText = Annotated[str | None, _expect("a string or null")]
Flag = Annotated[bool, _expect("true or false")]
Seconds = Annotated[int | None, _expect("an integer")]
Names = Annotated[list[str], _expect("a list of strings")]


def _user_internal(value: Any, handler: Any) -> Any:
    # Files written before the tri-state (issue 17) hold true/false: true is
    # "internal", false "inherit", as the upgrade migration maps stored rows.
    if value is True:
        return "internal"
    if value is False:
        return "inherit"
    return handler(value)


#: A user mapping's Sigma user type (``SigmaProfile.Internal``).
UserInternal = Annotated[
    Literal["inherit", "internal", "embed"],
    WrapValidator(_user_internal),
    _expect('"inherit", "internal" or "embed" (or true/false)'),
]
Strings = Annotated[dict[str, str], _expect("an object of strings")]


class Item(BaseModel):
    """One object of the file: unknown keys are refused, types are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NamedItem(Item):
    name: Text
    description: Text = ""


class CredentialItem(Item):
    name: Text
    client_id: Text
    secret_env: Text
    description: Text = ""
    owner_email: Text = ""
    owner_is_admin: Flag = False
    active: Flag = True
    revoked_reason: Text = ""

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, value: str) -> str:
        if not ENV_NAME.fullmatch(value):
            raise PydanticCustomError("secret_env", MSG_ENV_NAME)
        # Security: only a dedicated family of variables may become a signing key.
        if not value.startswith(SECRET_ENV_PREFIX):
            raise PydanticCustomError("secret_env", MSG_ENV_PREFIX % {"prefix": SECRET_ENV_PREFIX})
        return value


class ControlItem(Item):
    control_id: Text
    type: Text = "text"  # embeds.protocol.controls.ControlType; checked by the model's clean()
    default_value: Text = ""
    allow_from_query: Flag = False


class _EmbedFields(Item):
    slug: Text
    title: Text
    url: Text
    credential: Text
    teams: Names
    is_enabled: Flag = True
    disabled_reason: Text = ""
    token_ttl: Seconds = None  # None: SIGMA_DEFAULT_TOKEN_TTL
    theme: Text = ""
    menu_position: Text = ""
    language: Text = ""
    lng_variant: Text = ""
    eval_connection_id: Text = ""


# The interface switches are the validators' list, so a new one is in the file too.
EmbedItem = create_model(  # type: ignore[call-overload]
    "EmbedItem",
    __base__=_EmbedFields,
    **{name: (Flag, False) for name in BOOLEAN_OPTIONS},
    controls=(list[ControlItem], []),
)


class UserItem(Item):
    username: Text
    sigma_email: Text = ""
    account_type: OptionalText = None
    teams: Names = []
    attributes: Strings = {}
    is_blocked: Flag = False
    blocked_reason: Text = ""
    internal: UserInternal = "inherit"
    eval_connection_id: Text = ""


class GroupItem(Item):
    name: Text
    account_type: OptionalText = None
    teams: Names = []
    internal: Flag = False
    eval_connection_id: Text = ""


class Document(Item):
    """The whole file; sections are applied in this order."""

    version: Any = Field(default=None, validate_default=True)
    account_types: list[NamedItem] = []
    user_attributes: list[NamedItem] = []
    teams: list[NamedItem] = []
    credentials: list[CredentialItem] = []
    embeds: list[EmbedItem] = []
    users: list[UserItem] = []
    groups: list[GroupItem] = []

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> int:
        if type(value) is not int or value != FORMAT_VERSION:
            raise PydanticCustomError("version", MSG_VERSION % {"version": FORMAT_VERSION})
        return value


#: Section name -> the field that names an item (unique within the section).
SECTION_KEYS = {
    "account_types": "name",
    "user_attributes": "name",
    "teams": "name",
    "credentials": "name",
    "embeds": "slug",
    "users": "username",
    "groups": "name",
}
SECTIONS = list(SECTION_KEYS)
EMBED_FIELDS = list(EmbedItem.model_fields)


# --- Reading -----------------------------------------------------------------------


def parse_document(text: str) -> Document:
    """Parse and shape-check the JSON text; raise :class:`ConfigInvalid` listing every problem.

    Refuses, before any model runs: more than :data:`MAX_BYTES`, invalid JSON, nesting
    deeper than :data:`MAX_DEPTH`, and a top level that is not an object.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigInvalid([MSG_TOO_LARGE % {"limit": MAX_BYTES}])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = MSG_JSON % {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
        raise ConfigInvalid([message]) from None
    except RecursionError:
        # The decoder gives up around Python's recursion limit; say why, not crash.
        raise ConfigInvalid([MSG_TOO_DEEP % {"limit": MAX_DEPTH}]) from None
    if not isinstance(data, dict):
        raise ConfigInvalid([MSG_TOP_LEVEL])
    if nesting_depth(data) > MAX_DEPTH:
        raise ConfigInvalid([MSG_TOO_DEEP % {"limit": MAX_DEPTH}])
    problems = duplicate_keys(data)
    try:
        document = Document.model_validate(data)
    except ValidationError as exc:
        problems.extend((error["loc"], describe(error)) for error in exc.errors())
    if problems:
        raise ConfigInvalid([message for _, message in sorted(problems, key=_order)])
    return document


def nesting_depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (iterative: no recursion to exhaust)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def duplicate_keys(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """``<section>[i].<key>: 'x' is listed twice`` for every repeat of an item's name."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for section, key_field in SECTION_KEYS.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        seen: set[str] = set()
        for index, item in enumerate(items):
            key = item.get(key_field) if isinstance(item, dict) else None
            if not isinstance(key, str):
                continue
            if key in seen:
                loc = (section, index, key_field)
                problems.append((loc, f"{where(loc)}: {MSG_DUPLICATE % {'key': quoted(key)}}"))
            seen |= {key}
    return problems


# --- Problems as lines -----------------------------------------------------------------


def where(loc: tuple[str | int, ...]) -> str:
    """``("embeds", 0, "controls", 1)`` -> ``embeds[0].controls[1]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def quoted(value: Any) -> str:
    """``repr`` of a name from the file, cut at 40 characters.

    Problems name what is wrong ("'Finance' is listed twice"), but a long value is
    never repeated whole: whatever was pasted into a name field stays out of the
    error line (and so out of logs and terminals).
    """
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(error: ErrorDetails) -> str:
    """One pydantic error as a line keyed by its path; never the offending value."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key, parent = str(loc[-1]), loc[:-1]
        if "secret" in key.lower():
            return f"{where(loc)}: {MSG_SECRET_IN_FILE}"
        if not parent:
            return f"unknown section {quoted(key)}"
        if len(parent) == 2 and parent[0] == "embeds" and key in REMOVED_OPTIONS:
            return f"{where(parent)}: {MSG_REMOVED_OPTION % {'key': key}}"
        return f"{where(parent)}: unknown key {quoted(key)}"
    if kind == "missing":
        return f"{where(loc)}: missing"
    if kind == "list_type":
        return f"{where(loc)}: expected a list"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{where(loc)}: expected an object"
    # Our own errors ("expected a string", the secret_env rules, the version) and,
    # as a last resort, pydantic's wording; neither contains the input.
    return f"{where(loc)}: {error['msg']}"


def _order(problem: tuple[tuple[str | int, ...], str]) -> tuple[int, int, int, int]:
    """File order: the top level first (as pydantic lists it), then section by section,
    item by item, an embed's own fields before its controls; within one object its
    unknown keys before its fields (pydantic lists them last)."""
    loc, message = problem
    if len(loc) < 2 or loc[0] not in SECTIONS:
        return (-1, -1, -1, 1)
    indexes = [part for part in loc[1:] if isinstance(part, int)] + [-1, -1]
    unknown_key = ": unknown key " in message or MSG_SECRET_IN_FILE in message
    return (SECTIONS.index(str(loc[0])), indexes[0], indexes[1], 0 if unknown_key else 1)
