"""Validate a request against its operation, exactly as a strict vendor would.

One implementation serves the mock (to reject invalid requests) and the negative suite (to make
sure a generated "invalid" request really is invalid before blaming the API)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from apiconform.contracts import Contract, Operation
from apiconform.contracts._content import asserted, encode, encoding_of, problems, validator_class
from apiconform.contracts._model import format_checker

JSON_MEDIA = re.compile(r"^application/(.+\+)?json$")
FORM_MEDIA = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Violation:
    """One reason the request is invalid; `name` is the parameter or body field the vendor would key it by."""

    location: str  # path | query | header | cookie | body
    name: str
    message: str


@dataclass
class WireRequest:
    method: str
    path: str
    url: str
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    raw_body: bytes
    media_type: str | None = None
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)  # coerced parameter values by name
    violations: list[Violation] = field(default_factory=list)

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    def all_params(self) -> dict[str, str]:
        """Query plus form-body parameters as sent (strings): what signature schemes cover."""
        params = dict(self.query)
        if isinstance(self.body, dict) and self.media_type == FORM_MEDIA:
            params.update({k: str(v) for k, v in self._form_raw.items()})
        return params

    _form_raw: dict[str, str] = field(default_factory=dict)

    def form_pairs(self) -> list[tuple[str, str]]:
        """The fields of an application/x-www-form-urlencoded body as sent, read straight from the
        wire: a signature may cover them, so auth needs them before (and whether or not) the body
        is validated."""
        content_type = next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")
        if content_type.split(";")[0].strip().lower() != FORM_MEDIA or not self.raw_body:
            return []
        try:
            return parse_qsl(self.raw_body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return []


def from_httpx(request: Any, op: Operation) -> WireRequest:
    """A WireRequest from an outgoing `httpx.Request`, path parameters read back from the template."""
    raw_path = request.url.raw_path.split(b"?")[0].decode("ascii", "replace")
    params = op.match_path(raw_path)
    # a target whose base URL has a path (`https://host/v1`, `/api`): the template matches after that prefix
    starts = (i for i in range(1, len(raw_path)) if raw_path[i] == "/")
    while params is None:
        start = next(starts, None)
        if start is None:
            break
        params = op.match_path(raw_path[start:])
    return WireRequest(
        method=request.method,
        path=request.url.path,
        url=str(request.url),
        path_params=params or {},
        query=list(request.url.params.multi_items()),
        headers=dict(request.headers),
        raw_body=request.content,
    )


def _schema_type(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), None)
    return kind


def _boolean_literals(contract: Contract) -> dict[str, bool]:
    """How booleans may be spelled on the wire: `true`/`false`, plus what the contract's
    `info.x-apiconform.boolean-literals` adds (Eduframe documents `1` and `0`)."""
    extra = (contract.document.get("info", {}).get("x-apiconform", {}) or {}).get("boolean-literals", {})
    return {"true": True, "false": False, **{str(k).lower(): bool(v) for k, v in extra.items()}}


def coerce(contract: Contract, schema: Any, raw: str | list[str]) -> Any:
    """Turn a wire string into the schema's type when it is unambiguous; leave it for validation otherwise."""
    schema = contract.resolve(schema) or {}
    kind = _schema_type(schema)
    if kind == "array":
        items = raw if isinstance(raw, list) else [part for part in raw.split(",")] if raw else []
        return [coerce(contract, schema.get("items", {}), item) for item in items]
    if isinstance(raw, list):
        raw = raw[-1]
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", raw):
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if kind == "boolean":
        literals = _boolean_literals(contract)
        if raw.strip().lower() in literals:
            return literals[raw.strip().lower()]
    if kind == "null" and raw in ("", "null"):
        return None
    return raw


def validate_request(contract: Contract, op: Operation, request: WireRequest) -> WireRequest:
    """Fill `request.params`/`body` and collect every violation of the operation's request contract."""
    multi: dict[str, list[str]] = {}
    for key, value in request.query + (request.form_pairs() if op.form_params else []):
        multi.setdefault(key, []).append(value)
    lower_headers = {k.lower(): v for k, v in request.headers.items()}
    for param in op.parameters:
        name, where = str(param.get("name")), str(param.get("in"))
        if where == "path":
            raw: str | list[str] | None = request.path_params.get(name)
        elif where == "query":
            values = multi.get(name)
            raw = values if values and len(values) > 1 else (values[0] if values else None)
        elif where == "header":
            raw = lower_headers.get(name.lower())
        else:
            raw = None
        if raw is None:
            if param.get("required"):
                request.violations.append(Violation(where, name, "This parameter is required."))
            continue
        schema_ptr = op.param_schemas.get((where, name))
        if schema_ptr is None:
            request.params[name] = raw
            continue
        value = coerce(contract, contract.at(schema_ptr), raw)
        errors = contract.validate(schema_ptr, value)
        if errors:
            request.violations.append(Violation(where, name, errors[0].message))
        elif isinstance(value, str):
            request.violations.extend(_encoded_content(contract, schema_ptr, where, name, value))
        request.params[name] = value
    _body(contract, op, request)
    return request


def _encoded_content(contract: Contract, schema_ptr: str, where: str, name: str, value: str) -> list[Violation]:
    """A string parameter carrying encoded content (`contracts._content`: base64, JSON, JSON matching
    `contentSchema`): validators treat these keywords as annotations, but a vendor decodes and rejects bad content."""
    schema = contract.at(schema_ptr)
    if not isinstance(schema, dict):
        return []
    for kind, detail in problems(schema, value):
        if kind == "contentSchema":
            errors = contract.validate(contract.deref_pointer(schema_ptr) + "/contentSchema", detail)
            return [Violation(where, name, f"{name}: {errors[0].message}")] if errors else []
        what = "a JSON document" if kind == "media" else f"{detail}-encoded"
        return [Violation(where, name, f"The {name} parameter must be {what}.")]
    return []


def content_encoded_examples(contract: Contract, op: Operation, synthesize: Any) -> dict[str, str]:
    """Valid values for query parameters carrying a JSON document that must match a `contentSchema` (encoded as
    the schema says): one value synthesized from `contentSchema`, offered beside what the generators draw."""
    values: dict[str, str] = {}
    for (where, name), ptr in op.param_schemas.items():
        schema = contract.at(ptr)
        if where == "query" and isinstance(schema, dict) and "contentSchema" in schema and asserted(schema):
            text = json.dumps(synthesize(schema["contentSchema"]), separators=(",", ":"))
            encoding = encoding_of(schema)
            values[name] = text if encoding is None else encode(text.encode(), encoding)
    return values


def content_errors(contract: Contract, schema_pointer: str, instance: Any) -> list[Any]:
    """Errors of `instance` (already valid against its schema) in the content its strings carry; [] for a
    contract that asserts no content (nothing is walked)."""
    if not contract.asserts_content:
        return []
    schema = {"$ref": contract.base_uri + "#" + schema_pointer}
    validator = validator_class()(schema, registry=contract.registry, format_checker=format_checker())
    return sorted(validator.iter_errors(instance), key=lambda e: (-len(e.absolute_path), str(e.message)))


def _body(contract: Contract, op: Operation, request: WireRequest) -> None:
    if not op.request_body:
        return
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not request.raw_body:
        if op.request_required:
            request.violations.append(Violation("body", "body", "A request body is required."))
        return
    media = op.request_body.get(content_type)
    if media is None:
        documented = ", ".join(op.request_body)
        request.violations.append(
            Violation("body", "Content-Type", f"Unsupported media type {content_type or 'none'!r}; expected {documented}.")
        )
        return
    request.media_type = content_type
    if JSON_MEDIA.match(content_type):
        from apiconform.contracts._limits import loads_bounded

        try:
            request.body, too_deep = loads_bounded(request.raw_body)
        except (ValueError, UnicodeDecodeError):
            request.violations.append(Violation("body", "body", "Malformed JSON body."))
            return
        if too_deep:  # refused before any recursive validation could exhaust the stack
            request.violations.append(Violation("body", "body", f"Request body is {too_deep}."))
            return
    elif content_type == FORM_MEDIA:
        try:
            pairs = parse_qsl(request.raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            request.violations.append(Violation("body", "body", "Body is not UTF-8."))
            return
        request._form_raw = dict(pairs)
        props = (contract.resolve(contract.at(media.schema_pointer)) or {}).get("properties", {}) if media.schema_pointer else {}
        request.body = {k: coerce(contract, props.get(k, {}), v) for k, v in pairs}
    else:
        request.body = request.raw_body
        return
    if media.schema_pointer:
        # the schema first; then, if it holds, what its strings carry (base64, JSON: `contracts._content`)
        errors = contract.validate(media.schema_pointer, request.body)
        for error in errors or content_errors(contract, media.schema_pointer, request.body):
            path = [str(p) for p in error.absolute_path]
            name = path[0] if path else _missing_name(error) or "body"
            request.violations.append(Violation("body", name, error.message))


def _missing_name(error: Any) -> str | None:
    if error.validator == "required" and "'" in error.message:
        return str(error.message.split("'")[1])
    return None
