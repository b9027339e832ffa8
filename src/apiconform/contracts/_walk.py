"""Walking a JSON body alongside its schema, and finding a record's id: contract conventions that
the mock (drifts, store), the suites (lifecycles, discovery) and the run record (enum coverage) share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from apiconform.contracts._model import Contract


@dataclass
class Slot:
    """A field present in the body: its container, key, value, schema, and whether it is required."""

    parent: Any
    key: Any
    value: Any
    schema: dict[str, Any]
    required: bool
    path: tuple[Any, ...]


def properties_of(contract: Contract, schema: Any) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, through allOf and the first non-null oneOf/anyOf."""
    schema = contract.resolve(schema) or {}
    props: dict[str, Any] = dict(schema.get("properties") or {})
    required: set[str] = set(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        p, r = properties_of(contract, part)
        props.update(p)
        required |= r
    for key in ("oneOf", "anyOf"):
        for part in schema.get(key) or []:
            part = contract.resolve(part)
            if isinstance(part, dict) and part.get("type") != "null":
                p, r = properties_of(contract, part)
                props.update(p)
                required |= r
                break
    return props, required


def items_of(contract: Contract, schema: Any) -> Any:
    """The item schema of an array schema (also inside oneOf/anyOf, e.g. nullable arrays)."""
    schema = contract.resolve(schema) or {}
    if "items" in schema:
        return schema["items"]
    for key in ("oneOf", "anyOf"):
        for part in schema.get(key) or []:
            part = contract.resolve(part)
            if isinstance(part, dict) and "items" in part:
                return part["items"]
    return {}


def write_only(contract: Contract, schema: Any) -> bool:
    """Marked `writeOnly` (itself, or a non-null branch: `anyOf: [{type: string, writeOnly: true}, {type: null}]`)."""
    schema = contract.resolve(schema)
    if not isinstance(schema, dict):
        return False
    return schema.get("writeOnly") is True or any(
        write_only(contract, part) for key in ("allOf", "anyOf", "oneOf") for part in schema.get(key) or [])


_MARKS: dict[int, tuple[Contract, bool]] = {}


def marks_write_only(contract: Contract) -> bool:
    """The contract marks anything writeOnly (once per contract: most mark nothing, and a walk of whole bodies costs)."""
    known = _MARKS.get(id(contract))
    if known is None or known[0] is not contract:
        import json

        known = _MARKS[id(contract)] = (contract, '"writeOnly": true' in json.dumps(contract.document))
    return known[1]


def without_write_only(contract: Contract, body: Any, schema: Any) -> Any:
    """`body` (a success answer) without the non-null properties its schema marks writeOnly (OpenAPI: SHOULD NOT be
    sent back), in every array item too; a required one is kept (the contract requires it)."""
    if not marks_write_only(contract):
        return body
    import copy

    body = copy.deepcopy(body)
    stack: list[tuple[Any, Any]] = [(body, schema)]
    while stack:
        value, sub = stack.pop()
        if isinstance(value, list):
            stack.extend((item, items_of(contract, sub)) for item in value)
            continue
        if not isinstance(value, dict):
            continue
        props, required = properties_of(contract, sub)
        for key in [k for k in value if k in props]:
            member = contract.resolve(props[key]) or {}
            if value[key] is not None and key not in required and write_only(contract, member):
                del value[key]
            else:
                stack.append((value[key], member))
    return body


def slots(contract: Contract, value: Any, schema: Any, path: tuple[Any, ...] = ()) -> Iterator[Slot]:
    """Fields of `value` in document order, depth-first, with their schemas (first array item only)."""
    if isinstance(value, dict):
        props, required = properties_of(contract, schema)
        for key, sub in list(value.items()):
            if key not in props:
                continue
            sub_schema = contract.resolve(props[key]) or {}
            yield Slot(value, key, sub, sub_schema, key in required, path + (key,))
            yield from slots(contract, sub, sub_schema, path + (key,))
    elif isinstance(value, list) and value:
        yield from slots(contract, value[0], items_of(contract, schema), path + (0,))


def _id_container(record: Any, id_field: str) -> tuple[Any, str]:
    """Where the id lives: a dotted field (`request.id`), top level, or a JSON:API-style `data` object."""
    *parents, leaf = id_field.split(".")
    node = record
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and not parents and leaf not in node and isinstance(node.get("data"), dict):
        node = node["data"]
    return node, leaf


def record_id(record: Any, id_field: str) -> Any:
    """The id of a record (None if absent), per the operation's `x-apiconform-id-field`."""
    node, leaf = _id_container(record, id_field)
    return node.get(leaf) if isinstance(node, dict) else None


def set_record_id(record: Any, id_field: str, value: Any) -> None:
    node, leaf = _id_container(record, id_field)
    if isinstance(node, dict):
        node[leaf] = value


#: member names of a request carried inside a body: its method, and where it goes
_METHOD_MEMBERS = frozenset({"method", "http_method", "httpmethod", "verb"})
_TARGET_MEMBERS = frozenset({"path", "url", "uri", "href", "endpoint", "relative_url", "relativeurl", "resource_path"})
_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def carries_requests(resolve: Callable[[Any], Any], schema: Any, depth: int = 6) -> bool:
    """The body this schema describes carries requests of its own (a batch: `{"requests": [{"method": "DELETE",
    "path": "/x/1"}]}`): an object schema, at any depth, with a method member (so named, or an enum of HTTP methods)
    and a path/URL member. Such a request may address any record, whatever its own path says. `resolve` follows
    a `$ref` (the contract's, or an importer's over the raw document)."""
    schema = resolve(schema)
    if depth < 0 or not isinstance(schema, dict):
        return False
    props = {str(k).lower(): resolve(v) for k, v in (schema.get("properties") or {}).items()}
    if props.keys() & _TARGET_MEMBERS and any(
            name in _METHOD_MEMBERS or isinstance(sub, dict) and len(
                {str(e).lower() for e in sub.get("enum") or []} & _HTTP_METHODS) >= 2
            for name, sub in props.items()):
        return True
    parts = [*props.values(), schema.get("items"), schema.get("additionalProperties"),
             *(p for key in ("allOf", "oneOf", "anyOf") for p in schema.get(key) or [])]
    return any(carries_requests(resolve, p, depth - 1) for p in parts if isinstance(p, dict))
