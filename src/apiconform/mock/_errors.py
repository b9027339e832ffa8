"""Error bodies in the vendor's documented words: the contract's error examples first, its schema second.

A documented error example answers an error of its kind when the contract says so
(`x-apiconform-error: <kind>` or a list of kinds on the Example Object, see contracts/README.md).
Docs often show placeholder examples (`"message": "string"`), so an example is never used for a kind
it was not declared for. Without one, the body is built from the documented error schema: its
human-readable members (`message`, `detail`, `title`...) say what went wrong and its `code`/`status`
members carry the kind or the HTTP status, never synthesizer filler such as "message 13".
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from apiconform.contracts import Contract, Operation, declared_error_kinds

if TYPE_CHECKING:
    from apiconform.mock._app import MockContext

#: members that carry the human-readable reason, and members that carry a machine code
TEXT_KEYS = frozenset({"message", "detail", "details", "title", "error", "error_description", "description", "reason"})
CODE_KEYS = frozenset({"code", "error_code", "status"})

#: the default wording of each kind, where the mock has no more precise reason
KIND_TEXT: dict[str, str] = {
    "unauthenticated": "Authentication credentials were missing or invalid.",
    "forbidden": "You do not have permission to perform this action.",
    "validation": "The request is invalid.",
    "bad_request": "The request is invalid.",
    "not_found": "Not found.",
    "method_not_allowed": "Method not allowed.",
    "rate_limited": "Rate limit exceeded.",
    "conflict": "The resource already exists.",
    "unsupported_media_type": "Unsupported media type.",
    "idempotency_conflict": "The idempotency key was used with different data.",
}

#: which documented status a kind of error maps to, in order of preference
KIND_STATUSES: dict[str, tuple[int, ...]] = {
    "unauthenticated": (401, 403, 404),
    "forbidden": (403, 401),
    "validation": (422, 400),
    "bad_request": (400, 422),
    "not_found": (404,),
    "method_not_allowed": (405,),
    "rate_limited": (429,),
    "conflict": (409, 400, 422),
    "unsupported_media_type": (415, 400, 422),
    "idempotency_conflict": (409, 400, 422),
}


def documented_example(op: Operation | None, status: int, kind: str) -> Any | None:
    """A copy of the example the contract declares for this kind of error at this status (None: none)."""
    response = op.response_for(status) if op is not None else None
    for media in (response.content.values() if response is not None else ()):
        for example in media.examples.values():
            if kind in declared_error_kinds(example) and "value" in example and not example.get("x-erratum"):
                return copy.deepcopy(example["value"])
    return None


def _types(schema: Any) -> list[Any]:
    kinds = schema.get("type") if isinstance(schema, dict) else None
    return kinds if isinstance(kinds, list) else [kinds]


def _keyed(contract: Contract, schema: dict[str, Any], text: str, violations: Any) -> dict[str, Any]:
    """A map keyed by the failed inputs (`{"errors": {"name": ["message"]}}`, a common vendor form)."""
    member = contract.resolve(schema.get("additionalProperties")) or {}
    keyed: dict[str, Any] = {}
    for v in violations or ():
        message = v.message
        keyed.setdefault(v.name, [] if "array" in _types(member) else message)
        if isinstance(keyed[v.name], list):
            keyed[v.name].append(message)
    return keyed


def fill(
    contract: Contract, schema: Any, value: Any, status: int, kind: str, text: str, depth: int = 0, violations: Any = ()
) -> Any:
    """Say what the error is in a synthesized error body: reason in text members, kind/status in code
    members; optional members that are neither are left out (they would carry filler)."""
    schema = contract.resolve(schema) or {}
    if depth > 6 or not isinstance(schema, dict):
        return value
    if isinstance(value, dict) and not schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        return _keyed(contract, schema, text, violations) if violations else value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        for key in [k for k in value if k not in required and k.lower() not in TEXT_KEYS and k in props]:
            del value[key]  # optional members would only carry filler
        for key, member in list(value.items()):
            sub = contract.resolve(props.get(key, {})) or {}
            constrained = isinstance(sub, dict) and any(k in sub for k in ("const", "enum", "format"))
            pattern = sub.get("pattern") if isinstance(sub, dict) else None
            name = key.lower()
            if isinstance(member, str) and name in TEXT_KEYS and not constrained and not pattern:
                value[key] = text
            elif name in CODE_KEYS and isinstance(member, int) and not isinstance(member, bool) and not constrained:
                value[key] = status
            elif name in CODE_KEYS and isinstance(member, str) and not constrained:
                if pattern is None:
                    value[key] = kind
                elif re.search(pattern, str(status)):
                    value[key] = str(status)
            else:
                value[key] = fill(contract, sub, member, status, kind, text, depth + 1, violations)
    elif isinstance(value, list):
        return [fill(contract, schema.get("items", {}), v, status, kind, text, depth + 1, violations) for v in value]
    return value


def schema_body(
    ctx: MockContext, op: Operation, status: int, kind: str, message: str | None, answer_status: int | None = None,
    violations: Any = (),
) -> Any:
    """A body of the documented schema for `status` that says what the error is (None: no body documented);
    `answer_status` is the status really answered when it differs (an error no operation documents)."""
    ptr = ctx.response_schema(op, status)
    if ptr is None:
        return None
    text = message or KIND_TEXT.get(kind, "The request failed.")
    schema = ctx.contract.at(ptr)
    body = fill(ctx.contract, schema, ctx.synth.value(schema), answer_status or status, kind, text, violations=violations)
    fitted = ctx.fit(ptr, body)
    return fitted if answer_status is None else body


def error_body(
    ctx: MockContext, op: Operation | None, status: int, kind: str, message: str | None, violations: Any = ()
) -> Any:
    """The vendor-style body for an error: its declared example, else its schema filled with the reason
    (and, in a map keyed by input names, with the failed inputs)."""
    example = documented_example(op, status, kind)
    if example is not None:
        return example
    return schema_body(ctx, op, status, kind, message, violations=violations) if op is not None else None


def representative(contract: Contract, path: str | None = None) -> tuple[Operation, int] | None:
    """An operation and error status whose documented body stands for the API's error shape
    (preferring an operation at `path`): what an error outside every operation looks like."""
    ops = list(contract)
    at_path = [op for op in ops if path is not None and op.match_path(path) is not None]
    for candidates in (at_path, ops):
        for status in (404, 400, 422, 401, 403):
            for op in candidates:
                response = op.responses.get(str(status))
                if response is not None and response.content:
                    return op, status
    return None


__all__ = ["KIND_STATUSES", "KIND_TEXT", "documented_example", "error_body", "fill", "representative", "schema_body"]
