"""Sigma's own OpenAPI document as the referee of the REST API client and the emulator.

The client and the emulator were written from the same understanding of Sigma's
API, so testing one against the other confirms their shared mistakes. This module
checks both against ``tests/data/sigma-rest-api.openapi.json`` (Sigma's reference,
see ``tests/data/README.md``) with ``jsonschema`` and ``referencing``:

* :meth:`SigmaOpenAPI.check_request`: the operation exists for the method and path,
  every query parameter is declared for it (and its value fits the declared type),
  and a body has a declared media type and fits its schema;
* :meth:`SigmaOpenAPI.check_response`: a 200 answer fits the operation's response
  schema (with every ``oneOf`` and ``required`` the document has).

Failures raise :class:`ContractViolation`, an ``AssertionError``, so a test fails.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).parent / "data" / "sigma-rest-api.openapi.json"
DOCUMENT_URI = "urn:sigma-rest-api-openapi"
METHODS = ("get", "put", "post", "delete", "patch")

#: Where this project follows another Sigma source over the document, with the
#: source. Only these requests are let through with a body the document does not
#: declare (docs/sigma-rest-api.md lists them too).
BODY_MEDIA_TYPE_EXCEPTIONS = {
    # Sigma's "Get access token" page sends the client credentials form-encoded
    # (curl --header 'Content-Type: application/x-www-form-urlencoded'):
    # https://help.sigmacomputing.com/reference/token. The document says JSON.
    ("POST", "/v2/auth/token"): "application/x-www-form-urlencoded",
}


class ContractViolation(AssertionError):
    """A request or an answer that Sigma's OpenAPI document does not allow."""


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # the document's path, e.g. /v2/workbooks/{workbookId}/pages
    operation_id: str
    query: Mapping[str, Mapping[str, Any]]  # declared query parameter -> schema
    body_media_types: tuple[str, ...]
    pattern: re.Pattern[str] = field(compare=False)

    @property
    def literal_segments(self) -> int:
        """How many path segments are fixed text: a literal route beats a template."""
        return sum(1 for part in self.template.split("/") if "{" not in part)


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


class SigmaOpenAPI:
    """The operations and schemas of one OpenAPI 3.1 document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.corrections = _correct_overlapping_enums(document)
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method in METHODS:
                op = item.get(method)
                if op is None:
                    continue
                query = {
                    p["name"]: self._deref(p.get("schema", {}))
                    for p in [*shared, *op.get("parameters", [])]
                    if p.get("in") == "query"
                }
                media = tuple(op.get("requestBody", {}).get("content", {}))
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=op["operationId"],
                        query=query,
                        body_media_types=media,
                        pattern=_path_pattern(template),
                    )
                )

    def _deref(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self._pointer(schema["$ref"])
        return schema

    def _pointer(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    # --- Operations -------------------------------------------------------------

    def by_id(self, operation_id: str) -> Operation:
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(operation_id)

    def operation(self, method: str, path: str) -> Operation:
        """The operation for ``method`` and a concrete ``path``, or ContractViolation."""
        matches = [op for op in self.operations if op.pattern.match(path)]
        if not matches:
            raise ContractViolation(f"Sigma's API has no path like {path}")
        matches.sort(key=lambda op: op.literal_segments, reverse=True)
        for operation in matches:
            if operation.method == method.upper():
                return operation
        allowed = sorted({op.method for op in matches})
        raise ContractViolation(
            f"Sigma's API has no {method.upper()} {path} "
            f"({matches[0].template} takes {', '.join(allowed)})"
        )

    # --- Requests ---------------------------------------------------------------

    def check_query(self, operation: Operation, query: Iterable[tuple[str, str]]) -> None:
        for name, value in query:
            schema = operation.query.get(name)
            if schema is None:
                declared = ", ".join(sorted(operation.query)) or "none"
                raise ContractViolation(
                    f"{operation.operation_id} ({operation.method} {operation.template}) "
                    f"declares no query parameter {name!r} (it declares: {declared})"
                )
            errors = list(Draft202012Validator(schema).iter_errors(_coerce(value, schema)))
            if errors:
                raise ContractViolation(
                    f"{operation.operation_id}: query parameter {name}={value!r} does not "
                    f"fit {dict(schema)}: {errors[0].message}"
                )

    def check_request(self, request: httpx.Request) -> Operation:
        """The operation ``request`` calls; raises ContractViolation if undeclared."""
        # The path as sent (ids percent-encoded), so an id holding "/" stays one segment.
        operation = self.operation(request.method, request.url.raw_path.decode().split("?")[0])
        self.check_query(operation, request.url.params.multi_items())
        body = request.content
        if not body:
            return operation
        media = request.headers.get("content-type", "").split(";")[0].strip()
        exception = BODY_MEDIA_TYPE_EXCEPTIONS.get((operation.method, operation.template))
        if media == exception:
            declared = self._body_schema(operation, "application/json")
            if declared is not None:
                form = dict(parse_qsl(body.decode()))
                self._validate(declared, form, f"{operation.operation_id} request body")
            return operation
        if media not in operation.body_media_types:
            raise ContractViolation(
                f"{operation.operation_id} takes no {media or 'untyped'} body "
                f"(declared: {', '.join(operation.body_media_types) or 'none'})"
            )
        schema = self._body_schema(operation, media)
        if schema is not None and media == "application/json":
            self._validate(schema, json.loads(body), f"{operation.operation_id} request body")
        return operation

    def _body_schema(self, operation: Operation, media: str) -> Mapping[str, Any] | None:
        op = self.document["paths"][operation.template][operation.method.lower()]
        content = op.get("requestBody", {}).get("content", {}).get(media)
        return None if content is None else content.get("schema")

    # --- Answers ----------------------------------------------------------------

    def response_schema(self, operation: Operation, status: int = 200) -> Mapping[str, Any]:
        op = self.document["paths"][operation.template][operation.method.lower()]
        answer = op["responses"].get(str(status))
        if answer is None:
            raise ContractViolation(
                f"{operation.operation_id} declares no HTTP {status} answer "
                f"(declared: {', '.join(op['responses'])})"
            )
        return answer.get("content", {}).get("application/json", {}).get("schema", {})

    def check_response(self, operation: Operation, body: Any, status: int = 200) -> None:
        """Raise ContractViolation unless ``body`` fits the declared answer."""
        self._validate(
            self.response_schema(operation, status),
            body,
            f"answer to {operation.operation_id} ({operation.method} {operation.template})",
        )

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        return _validator(self, json.dumps(schema, sort_keys=True))

    def _validate(self, schema: Mapping[str, Any], instance: Any, what: str) -> None:
        best = best_match(self.validator(schema).iter_errors(instance))
        if best is None:
            return
        # A oneOf says only "not valid under any": show the branch that got furthest.
        while best.context:
            best = max(best.context, key=lambda e: len(e.absolute_path))
        where = "/".join(str(p) for p in best.absolute_path) or "(top)"
        raise ContractViolation(f"The {what} does not fit the document at {where}: {best.message}")


def _correct_overlapping_enums(document: dict[str, Any]) -> list[str]:
    """Turn a ``oneOf`` of string enums that share values into ``anyOf``, in place.

    The document lists grant permissions as ``oneOf`` three enums per kind of
    object, and "view", "edit", "apply" and "annotate" stand in two of them: under
    ``oneOf`` (exactly one branch) those values could never be valid, though the
    document's own descriptions say workbooks answer them. ``anyOf`` is what it
    means. Returns the names of the schemas corrected (docs/sigma-rest-api.md).
    """
    schemas = document["components"]["schemas"]
    corrected = []
    for name, schema in schemas.items():
        branches = [
            schemas[b["$ref"].split("/")[-1]] if "$ref" in b else b for b in schema.get("oneOf", [])
        ]
        if not branches or not all("enum" in branch for branch in branches):
            continue
        values = [value for branch in branches for value in branch["enum"]]
        if len(values) != len(set(values)):
            schema["anyOf"] = schema.pop("oneOf")
            corrected.append(name)
    return corrected


@functools.lru_cache(maxsize=512)
def _validator(spec: SigmaOpenAPI, schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    # References in the document (#/components/...) resolve against it.
    return Draft202012Validator(_absolute_refs(schema), registry=spec.registry)


def _absolute_refs(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            key: (DOCUMENT_URI + value)
            if key == "$ref" and isinstance(value, str) and value.startswith("#")
            else _absolute_refs(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_absolute_refs(item) for item in schema]
    return schema


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query string value as the JSON value the parameter's schema describes."""
    kind = schema.get("type")
    try:
        if kind == "boolean":
            return {"true": True, "false": False}.get(value, value)
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    return value


@functools.cache
def sigma_openapi() -> SigmaOpenAPI:
    """The vendored document, loaded once per test session."""
    return SigmaOpenAPI(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def check_exchange(request: httpx.Request, response: httpx.Response) -> Operation:
    """Check a request and, when it succeeded, its JSON answer."""
    spec = sigma_openapi()
    operation = spec.check_request(request)
    if response.status_code == 200:
        spec.check_response(operation, json.loads(response.content))
    return operation


class ContractTransport(httpx.BaseTransport):
    """Wrap a transport: every request and every 200 answer is checked against the
    document, and the operations called are recorded (``operation_ids``)."""

    def __init__(self, inner: httpx.BaseTransport, *, check_answers: bool = True) -> None:
        self.inner = inner
        self.check_answers = check_answers
        self.operation_ids: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        operation = sigma_openapi().check_request(request)
        self.operation_ids.append(operation.operation_id)
        response = self.inner.handle_request(request)
        if self.check_answers and response.status_code == 200:
            response.read()
            sigma_openapi().check_response(operation, json.loads(response.content))
        return response
